-- Per node, per task, per minute record counts: the reconciliation ledger
-- (records in = out + filtered + errored for every node and minute).
-- SummingMergeTree adds up rows with the same key, so workers can flush partial
-- minutes as often as they like.
CREATE TABLE IF NOT EXISTS node_metrics (
  minute DateTime,
  deployment_id String,
  pipeline_id String,
  node_id String,
  task_index UInt16,
  records_in UInt64,
  records_out UInt64,
  records_filtered UInt64,
  records_errored UInt64,
  records_late UInt64,
  bytes_in UInt64,
  bytes_out UInt64
) ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(minute)
ORDER BY (deployment_id, node_id, minute, task_index);

-- Per task samples (every few seconds): batch timings, throughput and lags.
-- Millisecond time is kept beside the DateTime because 18.16 has no DateTime64.
CREATE TABLE IF NOT EXISTS task_metrics (
  ts DateTime,
  ts_ms UInt64,
  deployment_id String,
  pipeline_id String,
  task_index UInt16,
  worker_id String,
  batches UInt32,
  records_in UInt64,
  records_out UInt64,
  batch_ms_avg Float64,
  batch_ms_max Float64,
  consumer_lag Int64,
  event_time_lag_ms Int64
) ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(ts)
ORDER BY (deployment_id, task_index, ts_ms);
