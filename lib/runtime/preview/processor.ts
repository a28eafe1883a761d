import { Worker } from "bullmq";
import { moduleLogger } from "@/lib/log/logger";
import { QUEUE_PREFIX, queues, runPreviewPayload } from "@/lib/queue/contracts";
import { bullmqRedisOptions, createRedis } from "@/lib/redis/client";
import { runPreview } from "./run-preview";

const log = moduleLogger("preview");

/** The worker side of live previews: short jobs, several at once, never retried (the browser asks again). */
export function startPreviewProcessor(opts: { concurrency?: number } = {}): { close(): Promise<void> } {
  const publisher = createRedis({ maxRetriesPerRequest: 2 });
  const worker = new Worker(queues.previews, async (job) => runPreview(runPreviewPayload.parse(job.data), publisher), {
    connection: createRedis(bullmqRedisOptions),
    prefix: QUEUE_PREFIX,
    concurrency: opts.concurrency ?? 4,
  });
  worker.on("error", (err) => log.error({ err }, "preview worker error"));
  return {
    async close() {
      await worker.close();
      publisher.disconnect();
    },
  };
}
