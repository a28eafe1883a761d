-- Metrics v2 (issue 13, operations):
-- * time columns are DateTime('UTC'): rows are written as UTC ("YYYY-MM-DD hh:mm:ss"
--   or unix seconds) and must not be re-read in the server's own time zone;
-- * raw tables are partitioned by day, so retention drops whole days
--   (ClickHouse 18.16 has no TTL: lib/metrics/retention.ts drops old partitions);
-- * node_metrics carries the pipeline version, so reconciliation checks each
--   minute against the graph that was running (a redeploy can split a minute);
-- * task samples gain the batch-time median and the open window count;
-- * partition_lag keeps consumer lag per source partition;
-- * hourly rollups, filled by materialized views, serve long chart ranges.
-- ClickHouse DDL is not transactional: every step below can be re-run after a
-- crash part-way (the copy starts again from the old table).

DROP TABLE IF EXISTS node_metrics_v2;
CREATE TABLE node_metrics_v2 (
  minute DateTime('UTC'),
  deployment_id String,
  pipeline_id String,
  node_id String,
  task_index UInt16,
  version UInt32,
  records_in UInt64,
  records_out UInt64,
  records_filtered UInt64,
  records_errored UInt64,
  records_late UInt64,
  bytes_in UInt64,
  bytes_out UInt64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMMDD(minute)
ORDER BY (deployment_id, minute, node_id, task_index, version);
INSERT INTO node_metrics_v2 (minute, deployment_id, pipeline_id, node_id, task_index, version, records_in, records_out, records_filtered, records_errored, records_late, bytes_in, bytes_out)
  SELECT minute, deployment_id, pipeline_id, node_id, task_index, 0, records_in, records_out, records_filtered, records_errored, records_late, bytes_in, bytes_out FROM node_metrics;
DROP TABLE IF EXISTS node_metrics_0001;
RENAME TABLE node_metrics TO node_metrics_0001, node_metrics_v2 TO node_metrics;
DROP TABLE node_metrics_0001;

DROP TABLE IF EXISTS task_metrics_v2;
CREATE TABLE task_metrics_v2 (
  ts DateTime('UTC'),
  ts_ms UInt64,
  deployment_id String,
  pipeline_id String,
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
ORDER BY (deployment_id, task_index, ts_ms);
INSERT INTO task_metrics_v2 (ts, ts_ms, deployment_id, pipeline_id, task_index, worker_id, batches, records_in, records_out, batch_ms_avg, batch_ms_p50, batch_ms_max, consumer_lag, event_time_lag_ms, window_open)
  SELECT ts, ts_ms, deployment_id, pipeline_id, task_index, worker_id, batches, records_in, records_out, batch_ms_avg, batch_ms_avg, batch_ms_max, consumer_lag, event_time_lag_ms, 0 FROM task_metrics;
DROP TABLE IF EXISTS task_metrics_0001;
RENAME TABLE task_metrics TO task_metrics_0001, task_metrics_v2 TO task_metrics;
DROP TABLE task_metrics_0001;

CREATE TABLE IF NOT EXISTS partition_lag (
  ts DateTime('UTC'),
  deployment_id String,
  pipeline_id String,
  task_index UInt16,
  topic String,
  partition UInt32,
  consumer_lag Int64
) ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(ts)
ORDER BY (deployment_id, ts, topic, partition);

-- Hourly rollups. Sums stay sums (SummingMergeTree); samples keep max/avg states
-- (the batch-time median only over samples that saw batches).
DROP TABLE IF EXISTS node_metrics_hourly_mv;
DROP TABLE IF EXISTS node_metrics_hourly;
CREATE TABLE node_metrics_hourly (
  hour DateTime('UTC'),
  deployment_id String,
  pipeline_id String,
  node_id String,
  version UInt32,
  records_in UInt64,
  records_out UInt64,
  records_filtered UInt64,
  records_errored UInt64,
  records_late UInt64,
  bytes_in UInt64,
  bytes_out UInt64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (deployment_id, hour, node_id, version);
INSERT INTO node_metrics_hourly
  SELECT toStartOfHour(minute) AS hour, deployment_id, pipeline_id, node_id, version, records_in, records_out, records_filtered, records_errored, records_late, bytes_in, bytes_out FROM node_metrics;
CREATE MATERIALIZED VIEW node_metrics_hourly_mv TO node_metrics_hourly AS
  SELECT toStartOfHour(minute) AS hour, deployment_id, pipeline_id, node_id, version, records_in, records_out, records_filtered, records_errored, records_late, bytes_in, bytes_out FROM node_metrics;

DROP TABLE IF EXISTS task_metrics_hourly_mv;
DROP TABLE IF EXISTS task_metrics_hourly;
CREATE TABLE task_metrics_hourly (
  hour DateTime('UTC'),
  deployment_id String,
  pipeline_id String,
  task_index UInt16,
  batch_count AggregateFunction(sum, UInt32),
  batch_ms_p50 AggregateFunction(avgIf, Float64, UInt8),
  batch_ms_max AggregateFunction(max, Float64),
  consumer_lag AggregateFunction(max, Int64),
  event_time_lag_ms AggregateFunction(max, Int64),
  window_open AggregateFunction(max, UInt64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (deployment_id, hour, task_index);
INSERT INTO task_metrics_hourly
  SELECT toStartOfHour(ts) AS hour, deployment_id, pipeline_id, task_index, sumState(batches), avgIfState(batch_ms_p50, batches > 0), maxState(batch_ms_max), maxState(consumer_lag), maxState(event_time_lag_ms), maxState(window_open)
  FROM task_metrics GROUP BY hour, deployment_id, pipeline_id, task_index;
CREATE MATERIALIZED VIEW task_metrics_hourly_mv TO task_metrics_hourly AS
  SELECT toStartOfHour(ts) AS hour, deployment_id, pipeline_id, task_index, sumState(batches) AS batch_count, avgIfState(batch_ms_p50, batches > 0) AS batch_ms_p50, maxState(batch_ms_max) AS batch_ms_max,
         maxState(consumer_lag) AS consumer_lag, maxState(event_time_lag_ms) AS event_time_lag_ms, maxState(window_open) AS window_open
  FROM task_metrics GROUP BY hour, deployment_id, pipeline_id, task_index;

DROP TABLE IF EXISTS partition_lag_hourly_mv;
DROP TABLE IF EXISTS partition_lag_hourly;
CREATE TABLE partition_lag_hourly (
  hour DateTime('UTC'),
  deployment_id String,
  pipeline_id String,
  topic String,
  partition UInt32,
  consumer_lag AggregateFunction(max, Int64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (deployment_id, hour, topic, partition);
CREATE MATERIALIZED VIEW partition_lag_hourly_mv TO partition_lag_hourly AS
  SELECT toStartOfHour(ts) AS hour, deployment_id, pipeline_id, topic, partition, maxState(consumer_lag) AS consumer_lag
  FROM partition_lag GROUP BY hour, deployment_id, pipeline_id, topic, partition;
