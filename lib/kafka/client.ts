// First: replaces kafkajs's quadratic per-partition grouping before kafkajs loads.
import "./linear-grouping";
import { Kafka, logLevel, type KafkaConfig, type logCreator } from "kafkajs";
import { ConfigError } from "@/lib/env/parse";
import { moduleLogger } from "@/lib/log/logger";
import { hookClusters } from "./cluster-hooks";
import { coordinatorCache } from "./coordinator-cache";
import { forgetDeletedTopics } from "./deleted-topics";
import { kafkaClientSecurity } from "./security";

/**
 * The only place Sluice builds a Kafka client. It knows nothing about the
 * embedded broker: KAFKA_BROKERS may name it or any real Kafka cluster, reached
 * over TLS and/or SASL as KAFKA_SSL* / KAFKA_SASL_* say (lib/kafka/security.ts).
 */
export function kafkaBrokers(): string[] | undefined {
  const raw = process.env.KAFKA_BROKERS;
  if (!raw) return undefined;
  return raw.split(",").map((s) => s.trim()).filter(Boolean);
}

/**
 * kafkajs logs through Sluice's logger (pino, module "kafkajs") instead of
 * printing its own JSON lines to the console: processes get one log format,
 * and the CLI, whose logger is silent unless asked, never shows a client
 * library's internal log to a user (errors reach them as error messages).
 */
const toPino: logCreator = () => {
  const log = moduleLogger("kafkajs");
  return ({ namespace, level, log: entry }) => {
    const { message, ...fields } = entry;
    const line = { namespace, ...fields };
    if (level === logLevel.ERROR) log.error(line, message);
    else if (level === logLevel.WARN) log.warn(line, message);
    else if (level === logLevel.INFO) log.info(line, message);
    else log.debug(line, message);
  };
};

export function createKafka(overrides: Partial<KafkaConfig> = {}): Kafka {
  const brokers = kafkaBrokers();
  if (!brokers) throw new ConfigError("KAFKA_BROKERS is not set: start Sluice with `npm start` (which runs the embedded broker) or point it at your Kafka cluster.");
  return hookClusters(
    new Kafka({
      clientId: process.env.KAFKA_CLIENT_ID ?? "sluice",
      brokers,
      logLevel: logLevel.ERROR,
      logCreator: toPino,
      ...kafkaClientSecurity(),
      ...overrides,
    }),
    coordinatorCache(),
    forgetDeletedTopics,
  );
}
