-- Flink SQL exported by Sluice. Run it in the Flink SQL client (Flink 1.19 or later, with the Kafka connector and JSON format jars).
-- Timestamps are epoch milliseconds (BIGINT) as in Sluice; a window's start and end are Flink TIMESTAMP_LTZ(3) values (JSON text, not epoch milliseconds).
-- Not carried over: dead-letter routing (Flink fails or skips a bad record as 'json.ignore-parse-errors' says), Sluice's exactly-once settings, per-record error records.
-- Warning: Stream "dwd.ads.big" does not exist yet: its columns come from the pipeline's output, and its topic name is assumed to be the stream's name.
-- Warning: Stream "dwd.ads.fr" does not exist yet: its columns come from the pipeline's output, and its topic name is assumed to be the stream's name.
-- Warning: Stream "dwd.ads.rest" does not exist yet: its columns come from the pipeline's output, and its topic name is assumed to be the stream's name.

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

CREATE TABLE `dwd.ads.big` (
  `user_id` STRING,
  `amount` DOUBLE,
  `country` STRING,
  `tags` ARRAY<STRING>,
  `ts` BIGINT
) WITH (
  'connector' = 'kafka',
  'topic' = 'dwd.ads.big',
  'properties.bootstrap.servers' = 'kafka-1:9092,kafka-2:9092',
  'sink.delivery-guarantee' = 'at-least-once',
  'format' = 'json'
);

CREATE TABLE `dwd.ads.fr` (
  `user_id` STRING,
  `amount` DOUBLE,
  `country` STRING,
  `tags` ARRAY<STRING>,
  `ts` BIGINT
) WITH (
  'connector' = 'kafka',
  'topic' = 'dwd.ads.fr',
  'properties.bootstrap.servers' = 'kafka-1:9092,kafka-2:9092',
  'sink.delivery-guarantee' = 'at-least-once',
  'format' = 'json'
);

CREATE TABLE `dwd.ads.rest` (
  `user_id` STRING,
  `amount` DOUBLE,
  `country` STRING,
  `tags` ARRAY<STRING>,
  `ts` BIGINT
) WITH (
  'connector' = 'kafka',
  'topic' = 'dwd.ads.rest',
  'properties.bootstrap.servers' = 'kafka-1:9092,kafka-2:9092',
  'sink.delivery-guarantee' = 'at-least-once',
  'format' = 'json'
);

EXECUTE STATEMENT SET
BEGIN
INSERT INTO `dwd.ads.big`
SELECT * FROM `ods.ads.clicks`
WHERE 'big' IN (CASE WHEN `amount` > 100.0 THEN 'big' END, CASE WHEN `country` = 'FR' THEN 'fr' END, CASE WHEN (`amount` > 100.0) OR (`country` = 'FR') THEN NULL ELSE 'else' END);

INSERT INTO `dwd.ads.fr`
SELECT * FROM `ods.ads.clicks`
WHERE 'fr' IN (CASE WHEN `amount` > 100.0 THEN 'big' END, CASE WHEN `country` = 'FR' THEN 'fr' END, CASE WHEN (`amount` > 100.0) OR (`country` = 'FR') THEN NULL ELSE 'else' END);

INSERT INTO `dwd.ads.rest`
SELECT * FROM `ods.ads.clicks`
WHERE 'else' IN (CASE WHEN `amount` > 100.0 THEN 'big' END, CASE WHEN `country` = 'FR' THEN 'fr' END, CASE WHEN (`amount` > 100.0) OR (`country` = 'FR') THEN NULL ELSE 'else' END);
END;
