import type { Principal } from "@/lib/auth/principal";
import { requireClickHouse } from "@/lib/clickhouse/client";
import { prisma } from "@/lib/db/prisma";
import { operationsEnv } from "@/lib/env/operations";
import { nodeCounts } from "@/lib/metrics/node-metrics";
import { partitionLagSeries } from "@/lib/metrics/partition-lag";
import { bucketsOf, parseTimeRange, type TimeRange } from "@/lib/metrics/range";
import type { StoredGraph } from "@/lib/metrics/reconciliation";
import { taskSeries } from "@/lib/metrics/task-metrics";
import { requirePipeline } from "@/lib/pipelines/pipelines";
import { deploymentTimeline, type TimelineEvent } from "./timeline";

type Series = (number | null)[];

export interface NodeSeries {
  id: string;
  type: string;
  /** Records per bucket (a minute, or an hour when `range.hourly`). */
  in: Series;
  out: Series;
  filtered: Series;
  errored: Series;
  late: Series;
}

export interface PipelineMetrics {
  pipeline: string;
  deploymentId: string | null;
  range: TimeRange;
  /** Bucket starts, unix seconds (uPlot's x values). */
  t: number[];
  nodes: NodeSeries[];
  tasks: { consumerLag: Series; eventTimeLagMs: Series; batchMsP50: Series; batchMsMax: Series; windowOpen: Series; batches: Series };
  partitions: { key: string; stream: string; partition: number; lag: Series }[];
  events: TimelineEvent[];
}

const empty = (n: number): Series => new Array<number | null>(n).fill(null);

/**
 * GET …/pipelines/:p/metrics?range=1h (or from/to; `since` returns only the
 * buckets from that instant on, for live updates of the newest minute):
 * everything the Monitor tab draws, as columns aligned on one time axis.
 */
export async function pipelineMetrics(principal: Principal, teamSlug: string, name: string, params: URLSearchParams): Promise<PipelineMetrics> {
  const { pipeline } = await requirePipeline(principal, teamSlug, name, "viewer");
  const full = parseTimeRange(params, { rawRetentionDays: operationsEnv().SLUICE_METRICS_RETENTION_DAYS });
  const since = params.get("since");
  const range: TimeRange = since && /^\d+$/.test(since) ? { ...full, from: Math.max(full.from, Math.floor(Number(since) / 1000 / full.step) * full.step) } : full;
  const t = bucketsOf(range);
  const d = pipeline.deployment;
  const graph = (d?.version.graph ?? pipeline.versions[0]?.graph ?? {}) as StoredGraph;
  const typeOf = new Map((graph.nodes ?? []).map((n) => [n.id, n.type]));
  if (!d) {
    return {
      pipeline: pipeline.name, deploymentId: null, range, t,
      nodes: [...typeOf].map(([id, type]) => ({ id, type, in: empty(t.length), out: empty(t.length), filtered: empty(t.length), errored: empty(t.length), late: empty(t.length) })),
      tasks: { consumerLag: empty(t.length), eventTimeLagMs: empty(t.length), batchMsP50: empty(t.length), batchMsMax: empty(t.length), windowOpen: empty(t.length), batches: empty(t.length) },
      partitions: [],
      events: [],
    };
  }
  const ch = requireClickHouse();
  const [counts, samples, lags, events] = await Promise.all([
    nodeCounts(ch, d.id, range.from, range.to, range.hourly),
    taskSeries(ch, d.id, range.from, range.to, range.hourly),
    partitionLagSeries(ch, d.id, range.from, range.to, range.hourly),
    deploymentTimeline(d.id, range.from * 1000, range.to * 1000),
  ]);
  const index = new Map(t.map((x, i) => [x, i]));

  // Nodes of the deployed version first (in graph order), then nodes only older versions had.
  const ids = [...typeOf.keys()];
  for (const c of counts) if (!typeOf.has(c.nodeId) && !ids.includes(c.nodeId)) ids.push(c.nodeId);
  const nodes = new Map<string, NodeSeries>(ids.map((id) => [id, { id, type: typeOf.get(id) ?? "removed", in: empty(t.length), out: empty(t.length), filtered: empty(t.length), errored: empty(t.length), late: empty(t.length) }]));
  // A bucket with any count is one the pipeline ran in: its silent nodes read 0 there, not "no data".
  const active = new Set<number>();
  for (const c of counts) {
    const i = index.get(c.t);
    if (i === undefined) continue;
    active.add(i);
    const s = nodes.get(c.nodeId)!;
    s.in[i] = (s.in[i] ?? 0) + c.in;
    s.out[i] = (s.out[i] ?? 0) + c.out;
    s.filtered[i] = (s.filtered[i] ?? 0) + c.filtered;
    s.errored[i] = (s.errored[i] ?? 0) + c.errored;
    s.late[i] = (s.late[i] ?? 0) + c.late;
  }
  for (const i of active) for (const s of nodes.values()) for (const k of ["in", "out", "filtered", "errored", "late"] as const) s[k][i] ??= 0;

  const tasks = { consumerLag: empty(t.length), eventTimeLagMs: empty(t.length), batchMsP50: empty(t.length), batchMsMax: empty(t.length), windowOpen: empty(t.length), batches: empty(t.length) };
  for (const p of samples) {
    const i = index.get(p.t);
    if (i === undefined) continue;
    tasks.consumerLag[i] = p.consumerLag;
    tasks.eventTimeLagMs[i] = p.batches > 0 ? p.eventTimeLagMs : null;
    tasks.batchMsP50[i] = p.batchMsP50;
    tasks.batchMsMax[i] = p.batches > 0 ? p.batchMsMax : null;
    tasks.windowOpen[i] = p.windowOpen;
    tasks.batches[i] = p.batches;
  }

  const topics = [...new Set(lags.map((l) => l.topic))];
  const streams = topics.length ? await prisma().stream.findMany({ where: { topic: { in: topics } }, select: { name: true, topic: true } }) : [];
  const streamOf = new Map(streams.map((s) => [s.topic, s.name]));
  const partitions = new Map<string, { key: string; stream: string; partition: number; lag: Series }>();
  for (const l of lags) {
    const i = index.get(l.t);
    if (i === undefined) continue;
    const stream = streamOf.get(l.topic) ?? l.topic;
    const key = `${stream}[${l.partition}]`;
    let p = partitions.get(key);
    if (!p) partitions.set(key, (p = { key, stream, partition: l.partition, lag: empty(t.length) }));
    p.lag[i] = l.lag;
  }
  return {
    pipeline: pipeline.name,
    deploymentId: d.id,
    range,
    t,
    nodes: [...nodes.values()],
    tasks,
    partitions: [...partitions.values()].sort((a, b) => a.stream.localeCompare(b.stream) || a.partition - b.partition),
    events,
  };
}
