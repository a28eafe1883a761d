import { z } from "zod";
import { kafkaSecurityEnvShape } from "./kafka";
import { brokerList, url } from "./parse";

/** Connection settings every Sluice process (web, worker, CLI) shares. */
export const serviceEnv = z.object({
  DATABASE_URL: url(["postgres", "postgresql"]),
  REDIS_URL: url(["redis", "rediss"]),
  KAFKA_BROKERS: brokerList.optional(),
  KAFKA_CLIENT_ID: z.string().default("sluice"),
  ...kafkaSecurityEnvShape,
  CLICKHOUSE_URL: url(["http", "https"]).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});
