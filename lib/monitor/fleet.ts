import type { Principal } from "@/lib/auth/principal";
import { clickhouse, clickhouseUrl } from "@/lib/clickhouse/client";
import { prisma } from "@/lib/db/prisma";
import { nodeTotalsByDeployment, readsPerMinute } from "@/lib/metrics/node-metrics";
import type { StoredGraph } from "@/lib/metrics/reconciliation";
import { listPipelineOverview } from "@/lib/pipelines/overview";
import { redis } from "@/lib/redis/client";
import { listWorkerFleet } from "@/lib/runtime/worker-registry";

/** Minutes of throughput each sparkline shows. */
export const SPARKLINE_MINUTES = 60;
/** The error rate is over this many recent minutes. */
export const ERROR_RATE_MINUTES = 15;

export interface FleetPipeline {
  name: string;
  version: number | null;
  /** Deployment state: not deployed, or the actual state (running, failed, …). */
  state: string;
  desiredState: string | null;
  tasks: number;
  tasksRunning: number;
  recordsPerSec: number;
  consumerLag: number;
  /** Records read per minute, oldest first, for the last SPARKLINE_MINUTES minutes (null where nothing ran). */
  sparkline: (number | null)[];
  /** Errored ÷ read over the last ERROR_RATE_MINUTES minutes (null without reads). */
  errorRate: number | null;
  alertsFiring: number;
  lastError: string | null;
}

export interface FleetWorkerRow {
  id: string;
  host: string;
  pid: number;
  alive: boolean;
  slots: number;
  running: number;
  cpuPercent: number | null;
  rssBytes: number | null;
  eventLoopDelayMs: number | null;
  eventLoopDelayP99Ms: number | null;
  heartbeatAt: number;
  heartbeatAgoMs: number;
}

export interface FleetOverview {
  pipelines: FleetPipeline[];
  workers: FleetWorkerRow[];
  /** Unix seconds of the sparklines' first minute. */
  sparklineFrom: number;
  metricsAvailable: boolean;
}

/**
 * The Monitor page: every pipeline the team owns with its state, a throughput
 * sparkline, lag, error rate and firing alerts, and every worker process
 * (live, or dead within the last hour) with its load. Live numbers come from
 * Redis, history from ClickHouse in two queries for all pipelines at once.
 */
export async function fleetOverview(principal: Principal, teamSlug: string): Promise<FleetOverview> {
  const overview = await listPipelineOverview(principal, teamSlug);
  const now = Date.now();
  const sparkTo = Math.floor(now / 60_000) * 60 + 60;
  const sparkFrom = sparkTo - SPARKLINE_MINUTES * 60;
  const deployed = overview.filter((p) => p.deployment);
  const deployments = deployed.length
    ? await prisma().deployment.findMany({ where: { id: { in: deployed.map((p) => p.deployment!.id) } }, select: { id: true, pipelineId: true, lastError: true, version: { select: { graph: true } }} })
    : [];
  const sourcesOf = new Map(deployments.map((d) => [d.id, ((d.version.graph as StoredGraph).nodes ?? []).filter((n) => n.type === "source").map((n) => n.id)]));
  const metricsAvailable = !!clickhouseUrl();
  const firing = new Map<string, number>();
  for (const r of await prisma().alertRule.findMany({ where: { state: "firing", pipelineId: { in: overview.map((p) => p.id) } }, select: { pipelineId: true } })) {
    firing.set(r.pipelineId!, (firing.get(r.pipelineId!) ?? 0) + 1);
  }
  const [reads, totals, workers] = await Promise.all([
    metricsAvailable ? readsPerMinute(clickhouse(), [...sourcesOf].map(([deploymentId, nodeIds]) => ({ deploymentId, nodeIds })), sparkFrom, sparkTo).catch(() => new Map()) : new Map(),
    metricsAvailable ? nodeTotalsByDeployment(clickhouse(), [...sourcesOf.keys()], sparkTo - ERROR_RATE_MINUTES * 60, sparkTo).catch(() => new Map()) : new Map(),
    listWorkerFleet(redis()),
  ]);
  const lastErrorOf = new Map(deployments.map((d) => [d.id, d.lastError]));
  const pipelines: FleetPipeline[] = overview.map((p) => {
    const d = p.deployment;
    const perMinute = d ? (reads as Map<string, Map<number, number>>).get(d.id) : undefined;
    const sparkline = Array.from({ length: SPARKLINE_MINUTES }, (_, i) => perMinute?.get(sparkFrom + i * 60) ?? (d?.desiredState === "running" ? 0 : null));
    const nodeTotals = d ? (totals as Map<string, Map<string, { in: number; errored: number }>>).get(d.id) : undefined;
    const sources = d ? sourcesOf.get(d.id) ?? [] : [];
    const read = sources.reduce((a, id) => a + (nodeTotals?.get(id)?.in ?? 0), 0);
    const errored = nodeTotals ? [...nodeTotals.values()].reduce((a, c) => a + c.errored, 0) : 0;
    return {
      name: p.name,
      version: d?.version ?? null,
      state: d ? (d.desiredState === "running" && p.live?.failed ? "failed" : d.actualState) : "not deployed",
      desiredState: d?.desiredState ?? null,
      tasks: p.live?.tasks ?? 0,
      tasksRunning: p.live?.tasksRunning ?? 0,
      recordsPerSec: p.live?.recordsPerSec ?? 0,
      consumerLag: p.live?.consumerLag ?? 0,
      sparkline,
      errorRate: read > 0 ? errored / read : null,
      alertsFiring: firing.get(p.id) ?? 0,
      lastError: d ? lastErrorOf.get(d.id) ?? null : null,
    };
  });
  return {
    pipelines,
    sparklineFrom: sparkFrom,
    metricsAvailable,
    workers: workers.map((w) => ({
      id: w.id, host: w.host, pid: w.pid, alive: w.alive, slots: w.slots, running: w.running,
      cpuPercent: w.cpuPercent ?? null, rssBytes: w.rssBytes ?? null, eventLoopDelayMs: w.eventLoopDelayMs ?? null, eventLoopDelayP99Ms: w.eventLoopDelayP99Ms ?? null,
      heartbeatAt: w.heartbeatAt, heartbeatAgoMs: now - w.heartbeatAt,
    })),
  };
}
