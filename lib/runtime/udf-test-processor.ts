import { Worker } from "bullmq";
import { moduleLogger } from "@/lib/log/logger";
import { QUEUE_PREFIX, queues, redisKeys, runUdfTestPayload } from "@/lib/queue/contracts";
import { bullmqRedisOptions, createRedis } from "@/lib/redis/client";
import { runUdfTest } from "@/lib/udf/run-test";

const log = moduleLogger("udf-test");

/**
 * Runs UDF test runs for the web (lib/udf/test-run.ts), `concurrency` at once,
 * in the worker's preview process — never in the web server, whose memory
 * and cores a user's function could otherwise take. Like previews, a test
 * run is never retried: the user asks again.
 */
export function startUdfTestProcessor(opts: { concurrency: number }): { close(): Promise<void> } {
  const publisher = createRedis({ maxRetriesPerRequest: 2 });
  const worker = new Worker(
    queues.udfTestRuns,
    async (job) => {
      const p = runUdfTestPayload.parse(job.data);
      const channel = redisKeys.udfTestChannel(p.testRunId);
      try {
        const outcome = await runUdfTest(p.source, p.form, { timeoutMs: p.timeoutMs, memoryMb: p.memoryMb }, p.rows);
        await publisher.publish(channel, JSON.stringify({ ok: true, outcome }));
      } catch (e) {
        log.warn({ testRun: p.testRunId, err: e instanceof Error ? e.message : String(e) }, "UDF test run failed");
        await publisher.publish(channel, JSON.stringify({ ok: false, message: e instanceof Error ? e.message : String(e) }));
      }
    },
    { connection: createRedis(bullmqRedisOptions), prefix: QUEUE_PREFIX, concurrency: opts.concurrency, maxStalledCount: 0 },
  );
  worker.on("error", (err) => log.error({ err }, "UDF test worker error"));
  return {
    async close() {
      await worker.close();
      publisher.disconnect();
    },
  };
}
