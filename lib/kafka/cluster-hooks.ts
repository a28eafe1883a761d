import type { Kafka } from "kafkajs";

/**
 * The parts of kafkajs's internal Cluster that Sluice's fixes touch. kafkajs
 * 2.2 is frozen (no releases since 2023) and exposes no options for these, so
 * the hook is the Kafka instance's cluster factory: every producer, consumer
 * and admin it creates gets the hooks applied to its cluster. If a future
 * version lacks the factory, no hook runs and everything works as before.
 */
export interface KafkaCluster {
  targetTopics: Set<string>;
  refreshMetadata(): Promise<unknown>;
  refreshMetadataIfNecessary(): Promise<unknown>;
  findGroupCoordinatorMetadata(req: { groupId: string; coordinatorType?: number }): Promise<unknown>;
  brokerPool: { withBroker<T>(fn: (b: { broker: { metadata(topics: string[]): Promise<{ topicMetadata: { topic: string }[] }> } }) => Promise<T>): Promise<T> };
}

export type ClusterHook = (cluster: KafkaCluster) => void;

export function hookClusters(kafka: Kafka, ...hooks: ClusterHook[]): Kafka {
  const target = kafka as unknown as Record<symbol, unknown>;
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
  const createCluster = key ? target[key] : undefined;
  if (!key || typeof createCluster !== "function") return kafka;
  target[key] = (...args: unknown[]) => {
    const cluster = (createCluster as (...a: unknown[]) => unknown).apply(kafka, args) as KafkaCluster;
    for (const hook of hooks) hook(cluster);
    return cluster;
  };
  return kafka;
}
