import type { ClusterHook } from "./cluster-hooks";

/**
 * kafkajs keeps every topic a client ever used in its metadata requests. Once
 * one of them is deleted (a stream deleted here, or by another process), every
 * metadata refresh fails with UNKNOWN_TOPIC_OR_PARTITION, and with it every
 * later produce, offset lookup or fetch of that client, for any topic: one
 * deleted stream made producing to all others fail until a restart.
 *
 * On that error the client now drops the topics the cluster no longer has and
 * refreshes again. A topic that really is missing still fails as before.
 */
export const forgetDeletedTopics: ClusterHook = (cluster) => {
  if (typeof cluster.refreshMetadata !== "function" || !(cluster.targetTopics instanceof Set) || !cluster.brokerPool) return;
  const prune = async (): Promise<boolean> => {
    const md = await cluster.brokerPool.withBroker(({ broker }) => broker.metadata([]));
    const existing = new Set(md.topicMetadata.map((t) => t.topic));
    let dropped = false;
    for (const t of [...cluster.targetTopics]) {
      if (!existing.has(t)) {
        cluster.targetTopics.delete(t);
        dropped = true;
      }
    }
    return dropped;
  };
  for (const method of ["refreshMetadata", "refreshMetadataIfNecessary"] as const) {
    const original = cluster[method].bind(cluster);
    cluster[method] = async () => {
      try {
        return await original();
      } catch (e) {
        if ((e as { type?: string }).type !== "UNKNOWN_TOPIC_OR_PARTITION" || !(await prune())) throw e;
        return original();
      }
    };
  }
};
