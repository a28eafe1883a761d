import type { Redis } from "ioredis";
import type { Principal } from "@/lib/auth/principal";
import { requireClickHouse } from "@/lib/clickhouse/client";
import { prisma } from "@/lib/db/prisma";
import { operationsEnv } from "@/lib/env/operations";
import { nodeCounts } from "@/lib/metrics/node-metrics";
import { parseTimeRange } from "@/lib/metrics/range";
import { balanceMinutes, flowGraphOf, summarize, type FlowGraph, type MinuteBalance, type StoredGraph } from "@/lib/metrics/reconciliation";
import { requirePipeline } from "@/lib/pipelines/pipelines";
import { redis } from "@/lib/redis/client";
import { MAIN_STAGE_ID } from "@/lib/runtime/naming";
import { readTaskStates } from "@/lib/runtime/task-state";
import { AppError } from "@/lib/errors";

/**
 * A minute is settled (balanced or red) only once it has ended, every task's
 * flush interval (5 s) has passed twice over, and every live task of the
 * deployment has written its counts past the minute's end; until then it is
 * pending — a task still flushing, or a minute still open, is not an error.
 */
export const SETTLE_GRACE_MS = 15_000;

/**
 * The newest instant (unix seconds) before which every minute of a deployment
 * is settled. A stopped deployment whose tasks have all stopped (they flush on
 * the way out) can add nothing more: even its current minute is settled.
 */
export async function settledBefore(
  r: Redis,
  deployment: { id: string; desiredState: string; parallelism: number; previousParallelism: number | null; stages: string[]; previousStages: string[] },
  now = Date.now(),
): Promise<number> {
  // Every stage's tasks (keyed scale-out), of the layout before a rescale too: any of them may still flush.
  const stages = [...new Set([MAIN_STAGE_ID, ...deployment.stages, ...deployment.previousStages])];
  const states = await readTaskStates(r, deployment.id, Math.max(deployment.parallelism, deployment.previousParallelism ?? 0), stages);
  const live = states.filter((s) => s.phase !== "stopped" && s.phase !== "failed");
  if (deployment.desiredState === "stopped" && !live.length) return Math.ceil(now / 60_000) * 60;
  let settled = now - SETTLE_GRACE_MS;
  for (const s of live) {
    // A task that has not flushed yet since it started holds back everything after its start.
    settled = Math.min(settled, s.flushedThrough && s.flushedThrough > 0 ? s.flushedThrough : s.startedAt);
  }
  return Math.floor(settled / 1000);
}

/** Flow graphs of the pipeline versions that appear in the counts (UDF forms from the team's function registry). */
export async function flowGraphsOf(pipelineId: string, teamId: string, versions: number[]): Promise<Map<number, FlowGraph>> {
  return (await flowGraphsFor([{ pipelineId, teamId, versions }])).get(pipelineId) ?? new Map();
}

/** flowGraphsOf for many pipelines at once: two queries whatever their number. */
export async function flowGraphsFor(items: { pipelineId: string; teamId: string; versions: number[] }[]): Promise<Map<string, Map<number, FlowGraph>>> {
  const out = new Map<string, Map<number, FlowGraph>>(items.map((i) => [i.pipelineId, new Map()]));
  const wanted = items.flatMap((i) => i.versions.filter((v) => v > 0).map((version) => ({ pipelineId: i.pipelineId, version })));
  if (!wanted.length) return out;
  const rows = await prisma().pipelineVersion.findMany({ where: { OR: wanted } });
  const teamOf = new Map(items.map((i) => [i.pipelineId, i.teamId]));
  const refs = new Set<string>();
  for (const r of rows) for (const n of (r.graph as StoredGraph).nodes ?? []) {
    const fn = n.config?.function as { name?: string } | undefined;
    if (n.type === "udf" && fn?.name) refs.add(`${teamOf.get(r.pipelineId)}\u0000${fn.name}`);
  }
  const functions = refs.size
    ? await prisma().function.findMany({ where: { OR: [...refs].map((k) => ({ teamId: k.split("\u0000")[0], name: k.split("\u0000")[1] })) }, include: { versions: { select: { version: true, form: true } } } })
    : [];
  const formOf = (teamId: string, name: string, version?: number) => {
    const vs = functions.find((f) => f.teamId === teamId && f.name === name)?.versions ?? [];
    const v = version === undefined ? vs.reduce<(typeof vs)[number] | undefined>((a, b) => (!a || b.version > a.version ? b : a), undefined) : vs.find((x) => x.version === version);
    return v?.form;
  };
  for (const r of rows) {
    const graph = r.graph as StoredGraph;
    const forms = new Map<string, string>();
    for (const n of graph.nodes ?? []) {
      const fn = n.config?.function as { name?: string; version?: number } | undefined;
      const form = n.type === "udf" && fn?.name ? formOf(teamOf.get(r.pipelineId)!, fn.name, fn.version) : undefined;
      if (form) forms.set(n.id, form);
    }
    out.get(r.pipelineId)!.set(r.version, flowGraphOf(graph, forms));
  }
  return out;
}

export interface ReconciliationReport {
  pipeline: string;
  deploymentId: string | null;
  from: string;
  to: string;
  /** Minutes before this instant are settled; later ones are pending. */
  settledBefore: string | null;
  summary: ReturnType<typeof summarize>;
  minutes: (Omit<MinuteBalance, "t"> & { minute: string })[];
}

/** Longest range reconciled at once: a week of minutes. */
const MAX_RECONCILE_SEC = 7 * 86_400;

/**
 * GET …/pipelines/:p/reconciliation?from&to — per minute and for the whole
 * graph, whether records in = out + filtered + errored (+ late) for every node
 * and edge; mismatching minutes name the node and the difference.
 */
export async function pipelineReconciliation(principal: Principal, teamSlug: string, name: string, params: URLSearchParams): Promise<ReconciliationReport> {
  const { team, pipeline } = await requirePipeline(principal, teamSlug, name, "viewer");
  const range = parseTimeRange(params, { rawRetentionDays: operationsEnv().SLUICE_METRICS_RETENTION_DAYS });
  const from = Math.floor(range.from / 60) * 60;
  const to = Math.ceil(range.to / 60) * 60;
  if (to - from > MAX_RECONCILE_SEC) throw new AppError("invalid_input", "Reconciliation covers at most 7 days at a time: narrow from/to.", [{ path: ["from"], message: "range too long" }]);
  const iso = (s: number) => new Date(s * 1000).toISOString();
  const d = pipeline.deployment;
  if (!d) return { pipeline: pipeline.name, deploymentId: null, from: iso(from), to: iso(to), settledBefore: null, summary: summarize([]), minutes: [] };
  const [rows, settled] = await Promise.all([nodeCounts(requireClickHouse(), d.id, from, to), settledBefore(redis(), d)]);
  const graphs = await flowGraphsOf(pipeline.id, team.id, [...new Set(rows.map((r) => r.version))]);
  const current = graphs.get(d.version.version) ?? flowGraphOf(d.version.graph as StoredGraph);
  // Rows written before versions were recorded (version 0) are checked against the deployed version's graph.
  const minutes = balanceMinutes(rows, (v) => graphs.get(v) ?? (v === 0 ? current : undefined), settled);
  return {
    pipeline: pipeline.name,
    deploymentId: d.id,
    from: iso(from),
    to: iso(to),
    settledBefore: iso(settled),
    summary: summarize(minutes),
    minutes: minutes.map(({ t, ...m }) => ({ minute: iso(t), ...m })),
  };
}
