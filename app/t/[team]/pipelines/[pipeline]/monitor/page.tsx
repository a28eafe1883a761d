import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { PipelineMonitor } from "@/components/monitor/pipeline-monitor";
import { PipelineTabs } from "@/components/pipelines/pipeline-tabs";
import { requirePageUser } from "@/lib/auth/server-session";
import { AppError } from "@/lib/errors";
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
  return (
    <>
      <div className="mb-4 flex items-center gap-4">
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900">{pipeline.name}</h1>
        <PipelineTabs team={team} pipeline={pipeline.name} active="monitor" />
      </div>
      <PipelineMonitor team={team} pipeline={pipeline.name} initialRange={range} />
    </>
  );
}
