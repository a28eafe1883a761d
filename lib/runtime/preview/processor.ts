import { Worker } from "bullmq";
import { moduleLogger } from "@/lib/log/logger";
import { QUEUE_PREFIX, queues, runPreviewPayload } from "@/lib/queue/contracts";
import { bullmqRedisOptions, createRedis } from "@/lib/redis/client";
import { runPreview } from "./run-preview";

const log = moduleLogger("preview");

/**
 * A preview job's lock, and how often stalled ones are looked for. A preview
 * whose process stalls (or dies) past its lock is failed by the next check —
 * never run again (`maxStalledCount: 0`): a preview that stalled a process
 * once would stall the next one too, and the browser asks again if it wants.
 */
export const PREVIEW_LOCK_MS = 15_000;
export const PREVIEW_STALLED_CHECK_MS = 5_000;

/**
 * The worker side of live previews: short jobs, `concurrency` at once (2 by
 * default), never retried. Worker processes run it in a child process of
 * their own (host.ts), so a preview can never block the event loop that keeps
 * deployed tasks' locks and heartbeats alive.
 */
export function startPreviewProcessor(opts: { concurrency?: number } = {}): { close(): Promise<void> } {
  const publisher = createRedis({ maxRetriesPerRequest: 2 });
  const worker = new Worker(
    queues.previews,
    async (job) => {
      log.info({ preview: job.id }, "preview started");
      await runPreview(runPreviewPayload.parse(job.data), publisher);
    },
    {
      connection: createRedis(bullmqRedisOptions),
      prefix: QUEUE_PREFIX,
      concurrency: opts.concurrency ?? 2,
      lockDuration: PREVIEW_LOCK_MS,
      stalledInterval: PREVIEW_STALLED_CHECK_MS,
      maxStalledCount: 0,
    },
  );
  worker.on("failed", (job, err) => log.warn({ preview: job?.id, err: err.message }, "preview failed"));
  worker.on("error", (err) => log.error({ err }, "preview worker error"));
  return {
    async close() {
      await worker.close();
      publisher.disconnect();
    },
  };
}
