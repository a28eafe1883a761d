-- Flink SQL exported by Sluice. Run it in the Flink SQL client (Flink 1.19 or later, with the Kafka connector and JSON format jars).
-- Timestamps are epoch milliseconds (BIGINT) as in Sluice; a window's start and end are Flink TIMESTAMP_LTZ(3) values (JSON text, not epoch milliseconds).
-- Not carried over: dead-letter routing (Flink fails or skips a bad record as 'json.ignore-parse-errors' says), Sluice's exactly-once settings, per-record error records.
-- Warning: Stream "dwd.ads.activity" does not exist yet: its columns come from the pipeline's output, and its topic name is assumed to be the stream's name.

CREATE TABLE `ods.ads.clicks` (
  `user_id` STRING,
  `amount` DOUBLE,
  `country` STRING,
  `tags` ARRAY<STRING>,
  `ts` BIGINT
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

CREATE TABLE `ods.ads.views` (
  `user_id` STRING,
  `country` STRING,
  `ts` BIGINT
) WITH (
  'connector' = 'kafka',
  'topic' = 'sluice.ods.ads.views',
  'properties.bootstrap.servers' = 'kafka-1:9092,kafka-2:9092',
  'properties.group.id' = 'sluice-flink-golden',
  'scan.startup.mode' = 'group-offsets',
  'properties.auto.offset.reset' = 'earliest',
  'format' = 'json',
  'json.fail-on-missing-field' = 'false',
  'json.ignore-parse-errors' = 'false'
);

CREATE TABLE `dwd.ads.activity` (
  `user_id` STRING,
  `country` STRING,
  `ts` BIGINT,
  `kind` STRING
) WITH (
  'connector' = 'kafka',
  'topic' = 'dwd.ads.activity',
  'properties.bootstrap.servers' = 'kafka-1:9092,kafka-2:9092',
  'sink.delivery-guarantee' = 'at-least-once',
  'format' = 'json'
);

EXECUTE STATEMENT SET
BEGIN
INSERT INTO `dwd.ads.activity`
SELECT *, 'click' AS `kind` FROM (
  SELECT `user_id`, `country`, `ts`
  FROM `ods.ads.clicks`
)
UNION ALL
SELECT *, 'view' AS `kind` FROM `ods.ads.views`;
END;
