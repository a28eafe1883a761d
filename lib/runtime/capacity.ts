import type { WorkerInfo } from "./worker-registry";

/**
 * Worker capacity as the status views show it: every live worker process
 * (worker-registry.ts) offers WORKER_SLOTS task slots, and a task that finds
 * none free waits in the queue. Without this a deployment sat at `starting`
 * with its tasks `pending` and no reason (issue 18).
 */
export interface Capacity {
  /** Live worker processes. */
  workers: number;
  /** Task slots they offer together. */
  slots: number;
  /** Slots running a task now. */
  inUse: number;
}

/**
 * `inUse` is the larger of the tasks the queue holds as active and what the
 * workers' heartbeats (every 2 s) report running: the queue knows a task the
 * moment a worker takes it, a heartbeat knows tasks the queue has not yet
 * noticed ended.
 */
export function capacityOf(workers: readonly WorkerInfo[], activeTasks: number): Capacity {
  const slots = workers.reduce((a, w) => a + w.slots, 0);
  const running = workers.reduce((a, w) => a + w.running, 0);
  return { workers: workers.length, slots, inUse: Math.min(slots, Math.max(activeTasks, running)) };
}

/** How to get more capacity: said wherever a task waits for it. */
export const CAPACITY_HINT = "add slots (WORKER_SLOTS, then restart the workers) or workers (`npm run worker` on another machine with the same settings); see docs/runtime.md, Capacity";

/** Why a pending task is not running, when capacity is the reason; null when there are free slots (it is starting). */
export function waitingReason(c: Capacity): string | null {
  if (c.workers === 0) return "waiting for a worker: no worker process is running (start Sluice with WORKERS ≥ 1, or `npm run worker`)";
  if (c.inUse >= c.slots) return `waiting for a free worker slot: ${c.inUse} of ${c.slots} in use`;
  return null;
}
