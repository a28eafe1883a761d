import type { ClickHouseClient } from "@clickhouse/client";
import { sql } from "@/lib/clickhouse/sql";

/**
 * `partition_lag`: consumer lag of every source partition a task reads, sampled
 * with the task's metrics, and its hourly rollup `partition_lag_hourly`
 * (max per hour). DDL: lib/clickhouse/migrations/0002_metrics_v2.sql.
 */
export interface PartitionLagRow {
  ts: string; // "YYYY-MM-DD hh:mm:ss" UTC
  deployment_id: string;
  pipeline_id: string;
  task_index: number;
  topic: string;
  partition: number;
  consumer_lag: number;
}

export const PARTITION_LAG_TABLE = "partition_lag";

export interface PartitionLagPoint {
  t: number;
  topic: string;
  partition: number;
  /** Newest sample in the bucket (hourly: the hour's maximum). */
  lag: number;
}

export async function partitionLagSeries(client: ClickHouseClient, deploymentId: string, fromSec: number, toSec: number, hourly = false): Promise<PartitionLagPoint[]> {
  const rs = await client.query({
    query: hourly
      ? sql`
      SELECT toUnixTimestamp(hour) AS t, topic, partition, maxMerge(consumer_lag) AS lag
      FROM partition_lag_hourly
      WHERE deployment_id = ${deploymentId} AND hour >= toDateTime(${fromSec}) AND hour < toDateTime(${toSec})
      GROUP BY t, topic, partition ORDER BY t, topic, partition`
      : sql`
      SELECT intDiv(toUInt32(ts), 60) * 60 AS t, topic, partition, argMax(consumer_lag, ts) AS lag
      FROM partition_lag
      WHERE deployment_id = ${deploymentId} AND ts >= toDateTime(${fromSec}) AND ts < toDateTime(${toSec})
      GROUP BY t, topic, partition ORDER BY t, topic, partition`,
    format: "JSONEachRow",
  });
  return (await rs.json<{ t: number; topic: string; partition: number; lag: string }>()).map((r) => ({ t: Number(r.t), topic: r.topic, partition: Number(r.partition), lag: Number(r.lag) }));
}
