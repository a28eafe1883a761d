import type { Redis } from "ioredis";
import { redisKeys } from "@/lib/queue/contracts";

/**
 * Worker presence: each worker process refreshes a short-lived key with its
 * slots, running tasks and process figures; a worker that dies (even with
 * kill -9) disappears when its key expires, so status views never show
 * ghosts for long. A second, longer-lived copy of its last heartbeat lets the
 * fleet page show it as dead (within one TTL, 6 s) for an hour afterwards;
 * a worker that shuts down cleanly deregisters both.
 */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  slots: number;
  running: number;
  startedAt: number;
  heartbeatAt: number;
  /** CPU used since the previous heartbeat, in % of one core (optional: older workers do not send it). */
  cpuPercent?: number;
  rssBytes?: number;
  /** Event-loop delay over the last heartbeat interval: mean and p99, ms. */
  eventLoopDelayMs?: number;
  eventLoopDelayP99Ms?: number;
  /** Tasks it runs now: "deploymentId/taskIndex". */
  tasks?: string[];
}

export const HEARTBEAT_INTERVAL_MS = 2_000;
const TTL_MS = HEARTBEAT_INTERVAL_MS * 3;
/** How long a dead worker stays listed on the fleet page. */
const LAST_SEEN_TTL_MS = 3_600_000;

export async function heartbeat(redis: Redis, info: WorkerInfo): Promise<void> {
  const value = JSON.stringify({ ...info, heartbeatAt: Date.now() });
  await redis
    .multi()
    .set(redisKeys.worker(info.id), value, "PX", TTL_MS)
    .set(redisKeys.workerLastSeen(info.id), value, "PX", LAST_SEEN_TTL_MS)
    .zadd(redisKeys.workers, Date.now(), info.id)
    .exec();
}

export async function deregister(redis: Redis, id: string): Promise<void> {
  await redis.multi().del(redisKeys.worker(id)).del(redisKeys.workerLastSeen(id)).zrem(redisKeys.workers, id).exec();
}

/** Live workers; prunes ids whose heartbeat key and last-seen copy both expired. */
export async function listWorkers(redis: Redis): Promise<WorkerInfo[]> {
  return (await listWorkerFleet(redis)).filter((w) => w.alive);
}

export type FleetWorker = WorkerInfo & { alive: boolean };

/** Live workers and workers that died in the last hour (alive: false), live first. */
export async function listWorkerFleet(redis: Redis): Promise<FleetWorker[]> {
  const ids = await redis.zrange(redisKeys.workers, 0, -1);
  if (!ids.length) return [];
  const [live, last] = await Promise.all([redis.mget(ids.map(redisKeys.worker)), redis.mget(ids.map(redisKeys.workerLastSeen))]);
  const gone = ids.filter((_, i) => live[i] === null && last[i] === null);
  if (gone.length) await redis.zrem(redisKeys.workers, ...gone);
  const out: FleetWorker[] = [];
  ids.forEach((_, i) => {
    const v = live[i] ?? last[i];
    if (v !== null) out.push({ ...(JSON.parse(v) as WorkerInfo), alive: live[i] !== null });
  });
  return out.sort((a, b) => Number(b.alive) - Number(a.alive) || a.id.localeCompare(b.id));
}
