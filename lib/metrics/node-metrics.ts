import type { ClickHouseClient } from "@clickhouse/client";
import { literal, raw, sql } from "@/lib/clickhouse/sql";

/**
 * `node_metrics`: records in/out/filtered/errored/late per node, task, pipeline
 * version and minute — the reconciliation ledger — and its hourly rollup
 * `node_metrics_hourly` (filled by a materialized view; long chart ranges read
 * it). DDL: lib/clickhouse/migrations/0001_metrics.sql, 0002_metrics_v2.sql.
 * SummingMergeTree adds up rows with the same key, so tasks flush partial
 * minutes as often as they like.
 */
export interface NodeMetricsRow {
  minute: string; // "YYYY-MM-DD hh:mm:00" UTC
  deployment_id: string;
  pipeline_id: string;
  node_id: string;
  task_index: number;
  /** Pipeline version the task ran (0 for rows written before versions were recorded). */
  version: number;
  records_in: number;
  records_out: number;
  records_filtered: number;
  records_errored: number;
  records_late: number;
  bytes_in: number;
  bytes_out: number;
}

export const NODE_METRICS_TABLE = "node_metrics";

/** "YYYY-MM-DD hh:mm:00" in UTC for the minute holding `ms`. */
export function minuteOf(ms: number): string {
  const d = new Date(Math.floor(ms / 60_000) * 60_000);
  return d.toISOString().slice(0, 19).replace("T", " ");
}

/** Counts of one node in one time bucket (a minute, or an hour from the rollup). */
export interface NodeCountsAt {
  /** Bucket start, unix seconds. */
  t: number;
  nodeId: string;
  version: number;
  in: number;
  out: number;
  filtered: number;
  errored: number;
  late: number;
}

interface CountsJson {
  t: number;
  node_id: string;
  version: number;
  rin: string;
  rout: string;
  rfiltered: string;
  rerrored: string;
  rlate: string;
}

const toCounts = (r: CountsJson): NodeCountsAt => ({
  t: Number(r.t),
  nodeId: r.node_id,
  version: Number(r.version),
  in: Number(r.rin),
  out: Number(r.rout),
  filtered: Number(r.rfiltered),
  errored: Number(r.rerrored),
  late: Number(r.rlate),
});

/**
 * Per node, version and bucket totals (summed over tasks) of one deployment
 * in [fromSec, toSec). `hourly` reads the rollup: one row per node and hour.
 */
export async function nodeCounts(client: ClickHouseClient, deploymentId: string, fromSec: number, toSec: number, hourly = false): Promise<NodeCountsAt[]> {
  const rs = await client.query({
    query: hourly
      ? sql`
      SELECT toUnixTimestamp(hour) AS t, node_id, version,
             sum(records_in) AS rin, sum(records_out) AS rout, sum(records_filtered) AS rfiltered,
             sum(records_errored) AS rerrored, sum(records_late) AS rlate
      FROM node_metrics_hourly
      WHERE deployment_id = ${deploymentId} AND hour >= toDateTime(${fromSec}) AND hour < toDateTime(${toSec})
      GROUP BY t, node_id, version
      ORDER BY t, node_id, version`
      : sql`
      SELECT toUnixTimestamp(minute) AS t, node_id, version,
             sum(records_in) AS rin, sum(records_out) AS rout, sum(records_filtered) AS rfiltered,
             sum(records_errored) AS rerrored, sum(records_late) AS rlate
      FROM node_metrics
      WHERE deployment_id = ${deploymentId} AND minute >= toDateTime(${fromSec}) AND minute < toDateTime(${toSec})
      GROUP BY t, node_id, version
      ORDER BY t, node_id, version`,
    format: "JSONEachRow",
  });
  return (await rs.json<CountsJson>()).map(toCounts);
}

/** nodeCounts for many deployments in one query (the alert evaluator's reconciliation rules). */
export async function nodeCountsByDeployment(client: ClickHouseClient, deploymentIds: string[], fromSec: number, toSec: number): Promise<Map<string, NodeCountsAt[]>> {
  const out = new Map<string, NodeCountsAt[]>(deploymentIds.map((d) => [d, []]));
  if (!deploymentIds.length) return out;
  const rs = await client.query({
    query: sql`
      SELECT deployment_id, toUnixTimestamp(minute) AS t, node_id, version,
             sum(records_in) AS rin, sum(records_out) AS rout, sum(records_filtered) AS rfiltered,
             sum(records_errored) AS rerrored, sum(records_late) AS rlate
      FROM node_metrics
      WHERE deployment_id IN ${deploymentIds} AND minute >= toDateTime(${fromSec}) AND minute < toDateTime(${toSec})
      GROUP BY deployment_id, t, node_id, version`,
    format: "JSONEachRow",
  });
  for (const r of await rs.json<CountsJson & { deployment_id: string }>()) out.get(r.deployment_id)?.push(toCounts(r));
  return out;
}

/** Per deployment totals over [fromSec, toSec): source reads, errored and sink writes, for fleet views and alert rules. */
export interface DeploymentTotals {
  deploymentId: string;
  in: number;
  out: number;
  filtered: number;
  errored: number;
  late: number;
}

/**
 * Totals of every node per deployment in one query (the alert evaluator and
 * the fleet page ask for many deployments at once). Node kinds are the
 * caller's business: pass the node ids whose `in` counts as reads.
 */
export async function nodeTotalsByDeployment(client: ClickHouseClient, deploymentIds: string[], fromSec: number, toSec: number): Promise<Map<string, Map<string, Omit<DeploymentTotals, "deploymentId">>>> {
  const out = new Map<string, Map<string, Omit<DeploymentTotals, "deploymentId">>>();
  if (!deploymentIds.length) return out;
  const rs = await client.query({
    query: sql`
      SELECT deployment_id, node_id,
             sum(records_in) AS rin, sum(records_out) AS rout, sum(records_filtered) AS rfiltered,
             sum(records_errored) AS rerrored, sum(records_late) AS rlate
      FROM node_metrics
      WHERE deployment_id IN ${deploymentIds} AND minute >= toDateTime(${fromSec}) AND minute < toDateTime(${toSec})
      GROUP BY deployment_id, node_id`,
    format: "JSONEachRow",
  });
  for (const r of await rs.json<Omit<CountsJson, "t" | "version"> & { deployment_id: string }>()) {
    let m = out.get(r.deployment_id);
    if (!m) out.set(r.deployment_id, (m = new Map()));
    m.set(r.node_id, { in: Number(r.rin), out: Number(r.rout), filtered: Number(r.rfiltered), errored: Number(r.rerrored), late: Number(r.rlate) });
  }
  return out;
}

/** Records read per deployment and minute for a set of deployments (fleet sparklines): the sum of `in` over the given source nodes. */
export async function readsPerMinute(client: ClickHouseClient, sources: { deploymentId: string; nodeIds: string[] }[], fromSec: number, toSec: number): Promise<Map<string, Map<number, number>>> {
  const out = new Map<string, Map<number, number>>();
  const pairs = sources.flatMap((s) => s.nodeIds.map((n) => `(${literal(s.deploymentId)}, ${literal(n)})`));
  if (!pairs.length) return out;
  const rs = await client.query({
    query: sql`
      SELECT deployment_id, toUnixTimestamp(minute) AS t, sum(records_in) AS rin
      FROM node_metrics
      WHERE deployment_id IN ${[...new Set(sources.map((s) => s.deploymentId))]}
        AND minute >= toDateTime(${fromSec}) AND minute < toDateTime(${toSec})
        AND (deployment_id, node_id) IN (${raw(pairs.join(", "))})
      GROUP BY deployment_id, t`,
    format: "JSONEachRow",
  });
  for (const r of await rs.json<{ deployment_id: string; t: number; rin: string }>()) {
    let m = out.get(r.deployment_id);
    if (!m) out.set(r.deployment_id, (m = new Map()));
    m.set(Number(r.t), Number(r.rin));
  }
  return out;
}

/** All-time totals per deployment and node from the hourly rollup (monotonic counters for Prometheus). */
export async function lifetimeNodeTotals(client: ClickHouseClient, deploymentIds: string[]): Promise<Map<string, Map<string, Omit<DeploymentTotals, "deploymentId">>>> {
  const out = new Map<string, Map<string, Omit<DeploymentTotals, "deploymentId">>>();
  if (!deploymentIds.length) return out;
  const rs = await client.query({
    query: sql`
      SELECT deployment_id, node_id,
             sum(records_in) AS rin, sum(records_out) AS rout, sum(records_filtered) AS rfiltered,
             sum(records_errored) AS rerrored, sum(records_late) AS rlate
      FROM node_metrics_hourly
      WHERE deployment_id IN ${deploymentIds}
      GROUP BY deployment_id, node_id`,
    format: "JSONEachRow",
  });
  for (const r of await rs.json<Omit<CountsJson, "t" | "version"> & { deployment_id: string }>()) {
    let m = out.get(r.deployment_id);
    if (!m) out.set(r.deployment_id, (m = new Map()));
    m.set(r.node_id, { in: Number(r.rin), out: Number(r.rout), filtered: Number(r.rfiltered), errored: Number(r.rerrored), late: Number(r.rlate) });
  }
  return out;
}
