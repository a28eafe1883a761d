import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { PipelineMonitor } from "@/components/monitor/pipeline-monitor";
import { PipelineTabs } from "@/components/pipelines/pipeline-tabs";
import { DEFAULT_MONITOR_RANGE, MONITOR_RANGES, type MetricsResponse } from "@/components/monitor/types";
import { requirePageUser } from "@/lib/auth/server-session";
import { AppError } from "@/lib/errors";
import { moduleLogger } from "@/lib/log/logger";
import { pipelineMetrics } from "@/lib/monitor/pipeline-monitor";
import { requirePipeline } from "@/lib/pipelines/pipelines";

export const dynamic = "force-dynamic";

export async function generateMetadata({ params }: { params: Promise<{ pipeline: string }> }): Promise<Metadata> {
  return { title: `${(await params).pipeline} · Monitor` };
}

export default async function PipelineMonitorPage({ params, searchParams }: { params: Promise<{ team: string; pipeline: string }>; searchParams: Promise<{ range?: string }> }) {
  const { team, pipeline: name } = await params;
  const { range } = await searchParams;
  const user = await requirePageUser();
  const { pipeline } = await requirePipeline(user, team, name, "viewer").catch((e) => {
    if (e instanceof AppError && e.code === "not_found") notFound();
    throw e;
  });
  // The first range's metrics come with the page, so the first chart is drawn on hydration instead of after
  // another round trip (docs/benchmarks.md, Operations). Without them (ClickHouse down) the tab reads them itself.
  const first = (MONITOR_RANGES as readonly string[]).includes(range ?? DEFAULT_MONITOR_RANGE) ? (range ?? DEFAULT_MONITOR_RANGE) : undefined;
  const initialMetrics = first
    ? await pipelineMetrics(user, team, pipeline.name, new URLSearchParams({ range: first }))
        .then((m) => JSON.parse(JSON.stringify(m)) as MetricsResponse)
        .catch((err) => (moduleLogger("monitor").warn({ err }, "monitor page: metrics not read on the server"), undefined))
    : undefined;
  return (
    <>
      <div className="mb-4 flex items-center gap-4">
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900">{pipeline.name}</h1>
        <PipelineTabs team={team} pipeline={pipeline.name} active="monitor" />
      </div>
      <PipelineMonitor team={team} pipeline={pipeline.name} initialRange={range} initialMetrics={initialMetrics} />
    </>
  );
}
