import type { ClickHouseClient } from "@clickhouse/client";
import { sql } from "@/lib/clickhouse/sql";

/** A row of `node_metrics` (see lib/clickhouse/migrations/0001_metrics.sql). */
export interface NodeMetricsRow {
  minute: string; // "YYYY-MM-DD hh:mm:00" UTC
  deployment_id: string;
  pipeline_id: string;
  node_id: string;
  task_index: number;
  records_in: number;
  records_out: number;
  records_filtered: number;
  records_errored: number;
  records_late: number;
  bytes_in: number;
  bytes_out: number;
}

export function minuteOf(ms: number): string {
  const d = new Date(Math.floor(ms / 60_000) * 60_000);
  return d.toISOString().slice(0, 19).replace("T", " ");
}

export interface ReconciliationRow {
  minute: string;
  nodeId: string;
  in: number;
  out: number;
  filtered: number;
  errored: number;
  /** in − (out + filtered + errored): zero when nothing was lost. */
  unaccounted: number;
}

/** Per node, per minute totals for a deployment, summed over tasks. */
export async function reconciliation(client: ClickHouseClient, deploymentId: string): Promise<ReconciliationRow[]> {
  const rs = await client.query({
    query: sql`
      SELECT toString(minute) AS minute, node_id,
             sum(records_in) AS rin, sum(records_out) AS rout,
             sum(records_filtered) AS rfiltered, sum(records_errored) AS rerrored
      FROM node_metrics
      WHERE deployment_id = ${deploymentId}
      GROUP BY minute, node_id
      ORDER BY minute, node_id`,
    format: "JSONEachRow",
  });
  const rows = await rs.json<{ minute: string; node_id: string; rin: string; rout: string; rfiltered: string; rerrored: string }>();
  return rows.map((r) => {
    const [i, o, f, e] = [r.rin, r.rout, r.rfiltered, r.rerrored].map(Number);
    return { minute: r.minute, nodeId: r.node_id, in: i, out: o, filtered: f, errored: e, unaccounted: i - o - f - e };
  });
}
