import { Queue } from "bullmq";
import { bullmqRedisOptions, createRedis } from "@/lib/redis/client";
import { QUEUE_PREFIX } from "./contracts";

/**
 * The producer side of one of Sluice's queues (names in contracts.ts), on a
 * connection of its own. BullMQ re-emits its connection's errors on the queue
 * and prints them as bare stack traces when nobody listens — once per Redis
 * restart in every web and worker process; the connection already logs them
 * once (lib/redis/client.ts), so the queue's copies are dropped here.
 */
export function createQueue(name: string): Queue {
  const queue = new Queue(name, { connection: createRedis(bullmqRedisOptions), prefix: QUEUE_PREFIX });
  queue.on("error", () => undefined);
  return queue;
}
