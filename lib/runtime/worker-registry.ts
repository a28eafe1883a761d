import type { Redis } from "ioredis";
import { redisKeys } from "@/lib/queue/contracts";

/**
 * Worker presence: each worker process refreshes a short-lived key with its
 * slots and running tasks; a worker that dies (even with kill -9) disappears
 * when its key expires, so status views never show ghosts for long.
 */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  slots: number;
  running: number;
  startedAt: number;
  heartbeatAt: number;
}

export const HEARTBEAT_INTERVAL_MS = 2_000;
const TTL_MS = HEARTBEAT_INTERVAL_MS * 3;

export async function heartbeat(redis: Redis, info: WorkerInfo): Promise<void> {
  await redis
    .multi()
    .set(redisKeys.worker(info.id), JSON.stringify({ ...info, heartbeatAt: Date.now() }), "PX", TTL_MS)
    .zadd(redisKeys.workers, Date.now(), info.id)
    .exec();
}

export async function deregister(redis: Redis, id: string): Promise<void> {
  await redis.multi().del(redisKeys.worker(id)).zrem(redisKeys.workers, id).exec();
}

/** Live workers; prunes ids whose heartbeat key expired. */
export async function listWorkers(redis: Redis): Promise<WorkerInfo[]> {
  const ids = await redis.zrange(redisKeys.workers, 0, -1);
  if (!ids.length) return [];
  const values = await redis.mget(ids.map(redisKeys.worker));
  const dead = ids.filter((_, i) => values[i] === null);
  if (dead.length) await redis.zrem(redisKeys.workers, ...dead);
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as WorkerInfo);
}
