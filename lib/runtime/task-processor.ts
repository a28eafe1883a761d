import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { prisma } from "@/lib/db/prisma";
import { moduleLogger } from "@/lib/log/logger";
import { QUEUE_PREFIX, queues, runTaskPayload } from "@/lib/queue/contracts";
import { bullmqRedisOptions, createRedis } from "@/lib/redis/client";
import { writeControl } from "./control";
import { recordTaskError } from "./task-state";
import { runTask, TaskFatal } from "./task-runner";

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
}

export function startTaskProcessor(opts: { workerId: string; slots: number; redis: Redis }): TaskProcessor {
  const shutdown = new AbortController();
  let active = 0;
  const worker = new Worker(
    queues.tasks,
    async (job) => {
      const payload = runTaskPayload.parse(job.data);
      active++;
      try {
        return await runTask(payload, { redis: opts.redis, workerId: opts.workerId, shutdown: shutdown.signal });
      } catch (e) {
        if (e instanceof TaskFatal) {
          // Retrying cannot help: stop the deployment with the reason, visible in status.
          log.warn({ deployment: payload.deploymentId, err: e.message }, "task cannot run; stopping its deployment");
          const d = await prisma().deployment.update({
            where: { id: payload.deploymentId },
            data: { desiredState: "stopped", actualState: "failed", lastError: e.message, generation: { increment: 1 } },
          });
          await writeControl(opts.redis, d.id, { generation: d.generation, desired: "stopped" });
          await recordTaskError(opts.redis, d.id, e.message);
          return "failed";
        }
        throw e;
      } finally {
        active--;
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
        // Handing a task over on shutdown should be immediate; crashes back off up to 30 s.
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => (err?.name === "TaskHandoff" ? 50 : Math.min(30_000, 250 * 2 ** Math.min(attemptsMade, 7))),
      },
    },
  );
  worker.on("failed", (job, err) => {
    if (err.name !== "TaskHandoff") log.warn({ job: job?.id, err: err.message }, "task failed; it will be retried");
  });
  worker.on("error", (err) => log.error({ err }, "task worker error"));
  return {
    running: () => active,
    async close() {
      shutdown.abort();
      await worker.close();
    },
  };
}
