-- Flink SQL exported by Sluice. Run it in the Flink SQL client (Flink 1.19 or later, with the Kafka connector and JSON format jars).
-- Timestamps are epoch milliseconds (BIGINT) as in Sluice; a window's start and end are Flink TIMESTAMP_LTZ(3) values (JSON text, not epoch milliseconds).
-- Not carried over: dead-letter routing (Flink fails or skips a bad record as 'json.ignore-parse-errors' says), Sluice's exactly-once settings, per-record error records.
-- Warning: Stream "dws.ads.per_minute" does not exist yet: its columns come from the pipeline's output, and its topic name is assumed to be the stream's name.

SET 'table.exec.source.idle-timeout' = '30 second';

CREATE TABLE `ods.ads.clicks` (
  `user_id` STRING,
  `amount` DOUBLE,
  `country` STRING,
  `tags` ARRAY<STRING>,
  `ts` BIGINT,
  `ts_rowtime` AS TO_TIMESTAMP_LTZ(`ts`, 3),
  WATERMARK FOR `ts_rowtime` AS `ts_rowtime` - INTERVAL '5' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = 'sluice.ods.ads.clicks',
  'properties.bootstrap.servers' = 'kafka-1:9092,kafka-2:9092',
  'properties.group.id' = 'sluice-flink-golden',
  'scan.startup.mode' = 'group-offsets',
  'properties.auto.offset.reset' = 'earliest',
  'format' = 'json',
  'json.fail-on-missing-field' = 'false',
  'json.ignore-parse-errors' = 'false'
);

CREATE TABLE `dws.ads.per_minute` (
  `country` STRING,
  `window_start` TIMESTAMP_LTZ(3),
  `window_end` TIMESTAMP_LTZ(3),
  `clicks` BIGINT,
  `revenue` DOUBLE,
  `users` BIGINT
) WITH (
  'connector' = 'kafka',
  'topic' = 'dws.ads.per_minute',
  'properties.bootstrap.servers' = 'kafka-1:9092,kafka-2:9092',
  'sink.delivery-guarantee' = 'at-least-once',
  'format' = 'json'
);

CREATE TEMPORARY VIEW `paid` AS
SELECT * FROM `ods.ads.clicks`
WHERE `amount` > 0.0;

EXECUTE STATEMENT SET
BEGIN
INSERT INTO `dws.ads.per_minute`
SELECT `country`, `window_start`, `window_end`, `clicks`, `revenue`, `users` FROM (
  SELECT `country` AS `country`, window_start AS `window_start`, window_end AS `window_end`, COUNT(*) AS `clicks`, SUM(`amount`) AS `revenue`, COUNT(DISTINCT `user_id`) AS `users`
  FROM TABLE(HOP(TABLE `paid`, DESCRIPTOR(`ts_rowtime`), INTERVAL '10' SECOND, INTERVAL '1' MINUTE))
  GROUP BY `country`, window_start, window_end
);
END;
