import type { ClickHouseClient } from "@clickhouse/client";
import { sql } from "@/lib/clickhouse/sql";

/**
 * `task_metrics`: one sample per task every few seconds (batches, batch time,
 * consumer and event-time lag, open windows), and its hourly rollup
 * `task_metrics_hourly` (AggregatingMergeTree states, filled by a
 * materialized view). DDL: lib/clickhouse/migrations/0002_metrics_v2.sql.
 */
export interface TaskMetricsRow {
  ts: string; // "YYYY-MM-DD hh:mm:ss" UTC
  /** Millisecond time beside the DateTime: ClickHouse 18.16 has no DateTime64. */
  ts_ms: number;
  deployment_id: string;
  pipeline_id: string;
  /** The task's stage ("main", or the Window a later stage starts with): a task is (stage, task_index). */
  stage: string;
  task_index: number;
  worker_id: string;
  batches: number;
  records_in: number;
  records_out: number;
  batch_ms_avg: number;
  batch_ms_p50: number;
  batch_ms_max: number;
  consumer_lag: number;
  event_time_lag_ms: number;
  /** Open windows (keys × panes) held in Window state at the sample. */
  window_open: number;
}

export const TASK_METRICS_TABLE = "task_metrics";

/** A deployment's task samples folded into one time bucket (summed or maxed over tasks). */
export interface TaskSeriesPoint {
  t: number;
  batches: number;
  /** Sum over tasks of each task's newest lag in the bucket (hourly: the max per task). */
  consumerLag: number;
  eventTimeLagMs: number;
  /** Batch time median: the batch-weighted mean of the samples' medians. */
  batchMsP50: number | null;
  batchMsMax: number;
  /** Sum over tasks of each task's newest open-window count (hourly: the max per task). */
  windowOpen: number;
}

interface SeriesJson {
  t: number;
  batches: string;
  lag: string;
  etl: string;
  p50: number | null;
  bmax: number;
  wopen: string;
}

export async function taskSeries(client: ClickHouseClient, deploymentId: string, fromSec: number, toSec: number, hourly = false): Promise<TaskSeriesPoint[]> {
  const rs = await client.query({
    query: hourly
      ? sql`
      SELECT t, sum(b) AS batches, sum(lag) AS lag, max(etl) AS etl, avgIf(p50, isFinite(p50)) AS p50, max(bmax) AS bmax, sum(wopen) AS wopen
      FROM (
        SELECT toUnixTimestamp(hour) AS t, stage, task_index, sumMerge(batch_count) AS b, maxMerge(consumer_lag) AS lag, maxMerge(event_time_lag_ms) AS etl,
               avgIfMerge(batch_ms_p50) AS p50, maxMerge(batch_ms_max) AS bmax, maxMerge(window_open) AS wopen
        FROM task_metrics_hourly
        WHERE deployment_id = ${deploymentId} AND hour >= toDateTime(${fromSec}) AND hour < toDateTime(${toSec})
        GROUP BY t, stage, task_index
      )
      GROUP BY t ORDER BY t`
      : sql`
      SELECT t, sum(b) AS batches, sum(lag) AS lag, max(etl) AS etl,
             if(sum(b) = 0, NULL, sum(p50w) / sum(b)) AS p50, max(bmax) AS bmax, sum(wopen) AS wopen
      FROM (
        SELECT intDiv(toUInt32(ts), 60) * 60 AS t, stage, task_index, sum(batches) AS b, argMax(consumer_lag, ts_ms) AS lag, max(event_time_lag_ms) AS etl,
               sum(batch_ms_p50 * batches) AS p50w, max(batch_ms_max) AS bmax, argMax(window_open, ts_ms) AS wopen
        FROM task_metrics
        WHERE deployment_id = ${deploymentId} AND ts >= toDateTime(${fromSec}) AND ts < toDateTime(${toSec})
        GROUP BY t, stage, task_index
      )
      GROUP BY t ORDER BY t`,
    format: "JSONEachRow",
  });
  return (await rs.json<SeriesJson>()).map((r) => ({
    t: Number(r.t),
    batches: Number(r.batches),
    consumerLag: Number(r.lag),
    eventTimeLagMs: Number(r.etl),
    batchMsP50: r.p50 === null || !Number.isFinite(Number(r.p50)) ? null : Number(r.p50),
    batchMsMax: Number(r.bmax),
    windowOpen: Number(r.wopen),
  }));
}
