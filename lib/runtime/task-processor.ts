import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { moduleLogger } from "@/lib/log/logger";
import { QUEUE_PREFIX, queues, runTaskPayload } from "@/lib/queue/contracts";
import { bullmqRedisOptions, createRedis } from "@/lib/redis/client";
import { recordTaskFailure, recordTaskGaveUp, type RestartPolicy } from "./restart-policy";
import { runTask, TaskFatal, TaskHandoff, TaskLockLost } from "./task-runner";

const log = moduleLogger("task-processor");

/**
 * BullMQ settings for long-running tasks. A job's lock is renewed every
 * lockDuration/2 by this process; if the process dies (kill -9) the lock
 * expires and another worker's stalled-job check (every stalledInterval) puts
 * the task back in the queue. maxStalledCount is effectively unlimited: a
 * stalled task is rescheduled, never given up on.
 */
export const TASK_LOCK_MS = 3_000;
export const STALLED_CHECK_MS = 1_000;

export interface TaskProcessor {
  close(): Promise<void>;
  running(): number;
  /** "deploymentId/taskIndex" of every task this process runs now (worker heartbeat, fleet page). */
  tasks(): string[];
}

/** BullMQ's own messages about a job whose lock is gone ("could not renew lock for job X", "Missing lock for job X. moveToFailed"). */
const LOCK_MESSAGE = /(?:could not renew lock|Missing lock|Lock mismatch) for job (\S+?)\.?(?:\s|$)/;

export function startTaskProcessor(opts: { workerId: string; slots: number; redis: Redis; restartPolicy?: RestartPolicy }): TaskProcessor {
  const shutdown = new AbortController();
  let active = 0;
  // Jobs whose lock this worker lost: their task was stopped and said so once; BullMQ's
  // repeated renewal failures and the final "Missing lock" for them are not news.
  const lockLost = new Set<string>();
  const running = new Set<string>();
  const worker = new Worker(
    queues.tasks,
    // Three parameters: BullMQ then passes an AbortSignal that `cancelJob` aborts (lock lost).
    async (job, _token, lost) => {
      const payload = runTaskPayload.parse(job.data);
      const key = `${payload.deploymentId}/${payload.taskIndex}`;
      active++;
      running.add(key);
      try {
        return await runTask(payload, { redis: opts.redis, workerId: opts.workerId, shutdown: shutdown.signal, lockLost: lost });
      } catch (e) {
        // Not a failure of the task: another worker runs it now. Throwing (rather than returning) lets
        // BullMQ's move to failed be refused for the missing lock, so the job stays the new owner's.
        if (e instanceof TaskLockLost) throw e;
        // Handed back on shutdown: another worker takes it at once; not a failure.
        if (e instanceof TaskHandoff) throw e;
        if (e instanceof TaskFatal) {
          // Retrying cannot help: stop the deployment with the reason, visible in status.
          log.warn({ deployment: payload.deploymentId, err: e.message }, "task cannot run; stopping its deployment");
          await recordTaskGaveUp(opts.redis, payload, e.message);
          return "failed";
        }
        // A crash: restarted after a backoff, or the deployment fails after too many (restart-policy.ts).
        const message = e instanceof Error ? e.message : String(e);
        const decision = await recordTaskFailure(opts.redis, payload, message, opts.restartPolicy).catch((err) => log.warn({ err }, "could not record the task failure"));
        if (decision?.giveUp) return "failed";
        throw Object.assign(e instanceof Error ? e : new Error(message), { retryDelayMs: decision?.backoffMs });
      } finally {
        active--;
        running.delete(key);
      }
    },
    {
      connection: createRedis(bullmqRedisOptions),
      prefix: QUEUE_PREFIX,
      concurrency: opts.slots,
      lockDuration: TASK_LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      maxStalledCount: 1_000_000,
      settings: {
        // Handing a task over on shutdown should be immediate; crashes wait what the restart policy decided.
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => {
          if (err?.name === "TaskHandoff") return 50;
          const decided = (err as { retryDelayMs?: number } | undefined)?.retryDelayMs;
          return typeof decided === "number" ? decided : Math.min(30_000, 250 * 2 ** Math.min(attemptsMade, 7));
        },
      },
    },
  );
  worker.on("failed", (job, err) => {
    if (err.name !== "TaskHandoff" && err.name !== "TaskLockLost") log.warn({ job: job?.id, err: err.message }, "task failed; it will be retried");
  });
  // The lock of a running task could not be renewed: this process stalled past TASK_LOCK_MS (a
  // blocked event loop, a paused VM, a Redis outage) and the stalled-job check has handed the
  // task to another worker, or will. Two copies must not run: stop ours at once, say so once.
  worker.on("lockRenewalFailed", (jobIds: string[]) => {
    for (const id of jobIds) {
      if (lockLost.has(id)) continue;
      lockLost.add(id);
      // Forget it after a while (a later run of the same job on this worker can lose its lock again).
      setTimeout(() => lockLost.delete(id), 60_000).unref();
      log.warn({ job: id }, "task lost its lock (this worker stalled and the task was handed to another worker); stopping it here");
      worker.cancelJob(id, "lock lost");
    }
  });
  worker.on("error", (err) => {
    const m = LOCK_MESSAGE.exec(err.message);
    if (m && lockLost.has(m[1])) return;
    log.error({ err }, "task worker error");
  });
  return {
    running: () => active,
    tasks: () => [...running],
    async close() {
      shutdown.abort();
      await worker.close();
    },
  };
}
