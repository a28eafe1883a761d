-- Keyed scale-out runs a Window pipeline in stages, each with tasks 0..N-1, so
-- a task is (stage, task_index): without the stage, task 0 of the main stage
-- and task 0 of the Window stage shared one series and the monitor's "newest
-- sample per task" (lag, open windows) picked one of them and hid the other.
-- Existing rows are one-stage deployments' ("main"). The stage is in the
-- hourly rollup's key, or AggregatingMergeTree would merge two stages' states.
-- Every step can be re-run after a crash part-way (as in 0002).

DROP TABLE IF EXISTS task_metrics_hourly_mv;

DROP TABLE IF EXISTS task_metrics_v3;
CREATE TABLE task_metrics_v3 (
  ts DateTime('UTC'),
  ts_ms UInt64,
  deployment_id String,
  pipeline_id String,
  stage String,
  task_index UInt16,
  worker_id String,
  batches UInt32,
  records_in UInt64,
  records_out UInt64,
  batch_ms_avg Float64,
  batch_ms_p50 Float64,
  batch_ms_max Float64,
  consumer_lag Int64,
  event_time_lag_ms Int64,
  window_open UInt64
) ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(ts)
ORDER BY (deployment_id, stage, task_index, ts_ms);
INSERT INTO task_metrics_v3 (ts, ts_ms, deployment_id, pipeline_id, stage, task_index, worker_id, batches, records_in, records_out, batch_ms_avg, batch_ms_p50, batch_ms_max, consumer_lag, event_time_lag_ms, window_open)
  SELECT ts, ts_ms, deployment_id, pipeline_id, 'main', task_index, worker_id, batches, records_in, records_out, batch_ms_avg, batch_ms_p50, batch_ms_max, consumer_lag, event_time_lag_ms, window_open FROM task_metrics;
DROP TABLE IF EXISTS task_metrics_0002;
RENAME TABLE task_metrics TO task_metrics_0002, task_metrics_v3 TO task_metrics;
DROP TABLE task_metrics_0002;

DROP TABLE IF EXISTS task_metrics_hourly_v3;
CREATE TABLE task_metrics_hourly_v3 (
  hour DateTime('UTC'),
  deployment_id String,
  pipeline_id String,
  stage String,
  task_index UInt16,
  batch_count AggregateFunction(sum, UInt32),
  batch_ms_p50 AggregateFunction(avgIf, Float64, UInt8),
  batch_ms_max AggregateFunction(max, Float64),
  consumer_lag AggregateFunction(max, Int64),
  event_time_lag_ms AggregateFunction(max, Int64),
  window_open AggregateFunction(max, UInt64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (deployment_id, hour, stage, task_index);
INSERT INTO task_metrics_hourly_v3 (hour, deployment_id, pipeline_id, stage, task_index, batch_count, batch_ms_p50, batch_ms_max, consumer_lag, event_time_lag_ms, window_open)
  SELECT hour, deployment_id, pipeline_id, 'main', task_index, batch_count, batch_ms_p50, batch_ms_max, consumer_lag, event_time_lag_ms, window_open FROM task_metrics_hourly;
DROP TABLE IF EXISTS task_metrics_hourly_0002;
RENAME TABLE task_metrics_hourly TO task_metrics_hourly_0002, task_metrics_hourly_v3 TO task_metrics_hourly;
DROP TABLE task_metrics_hourly_0002;
CREATE MATERIALIZED VIEW task_metrics_hourly_mv TO task_metrics_hourly AS
  SELECT toStartOfHour(ts) AS hour, deployment_id, pipeline_id, stage, task_index, sumState(batches) AS batch_count, avgIfState(batch_ms_p50, batches > 0) AS batch_ms_p50, maxState(batch_ms_max) AS batch_ms_max,
         maxState(consumer_lag) AS consumer_lag, maxState(event_time_lag_ms) AS event_time_lag_ms, maxState(window_open) AS window_open
  FROM task_metrics GROUP BY hour, deployment_id, pipeline_id, stage, task_index;
