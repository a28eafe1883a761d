// First: replaces kafkajs's quadratic per-partition grouping before kafkajs loads.
import "./linear-grouping";
import { Kafka, logLevel, type KafkaConfig } from "kafkajs";
import { hookClusters } from "./cluster-hooks";
import { coordinatorCache } from "./coordinator-cache";
import { forgetDeletedTopics } from "./deleted-topics";

/**
 * The only place Sluice builds a Kafka client. It knows nothing about the
 * embedded broker: KAFKA_BROKERS may name it or any real Kafka cluster.
 */
export function kafkaBrokers(): string[] | undefined {
  const raw = process.env.KAFKA_BROKERS;
  if (!raw) return undefined;
  return raw.split(",").map((s) => s.trim()).filter(Boolean);
}

export function createKafka(overrides: Partial<KafkaConfig> = {}): Kafka {
  const brokers = kafkaBrokers();
  if (!brokers) throw new Error("KAFKA_BROKERS is not set: start Sluice with `npm start` (which runs the embedded broker) or point it at your Kafka cluster.");
  return hookClusters(
    new Kafka({
      clientId: process.env.KAFKA_CLIENT_ID ?? "sluice",
      brokers,
      logLevel: logLevel.ERROR,
      ...overrides,
    }),
    coordinatorCache(),
    forgetDeletedTopics,
  );
}
