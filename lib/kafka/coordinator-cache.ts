import type { Kafka } from "kafkajs";
import { hookClusters, type ClusterHook } from "./cluster-hooks";

/**
 * kafkajs looks the coordinator up again (a FindCoordinator round trip) for
 * every transactional step: AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit
 * and EndTxn each ask anew, so an exactly-once batch pays four extra round trips
 * on its critical path. This remembers each answer for a short time instead.
 *
 * Coordinators move only when a real cluster fails over a broker. An answer is
 * kept for `ttlMs` at most, and a failed lookup is never kept, so after a move
 * kafkajs's own retries (which back off from 300 ms) reach the new coordinator
 * within a retry or two.
 */
export const coordinatorCache =
  (ttlMs = 1_000): ClusterHook =>
  (cluster) => {
    if (typeof cluster.findGroupCoordinatorMetadata !== "function") return;
    const lookup = cluster.findGroupCoordinatorMetadata.bind(cluster);
    const cache = new Map<string, { at: number; answer: Promise<unknown> }>();
    cluster.findGroupCoordinatorMetadata = (req) => {
      const k = `${req.coordinatorType ?? 0}\u0000${req.groupId}`;
      const hit = cache.get(k);
      if (hit && Date.now() - hit.at < ttlMs) return hit.answer;
      const answer = lookup(req);
      cache.set(k, { at: Date.now(), answer });
      answer.catch(() => {
        if (cache.get(k)?.answer === answer) cache.delete(k);
      });
      return answer;
    };
  };

export function cacheCoordinators(kafka: Kafka, ttlMs = 1_000): Kafka {
  return hookClusters(kafka, coordinatorCache(ttlMs));
}
