/**
 * Preview process entry: started by each worker process (lib/runtime/preview/host.ts),
 * never on its own. Runs live previews (PREVIEW_CONCURRENCY at once) and UDF
 * test runs (UDF_TEST_CONCURRENCY at once), tells
 * its parent twice a second that its event loop is alive, and exits when the
 * parent asks (SIGTERM) or goes away (the IPC channel closes).
 */
// First, before anything loads kafkajs (see the module).
import "@/lib/kafka/linear-grouping";
import { disconnectPrisma } from "@/lib/db/prisma";
import { workerEnv } from "@/lib/env/worker";
import { closeKafka } from "@/lib/kafka/shared";
import { moduleLogger } from "@/lib/log/logger";
import { closeRedis } from "@/lib/redis/client";
import { startPreviewProcessor } from "@/lib/runtime/preview/processor";
import { startUdfTestProcessor } from "@/lib/runtime/udf-test-processor";

const log = moduleLogger("preview-worker");

function main() {
  const env = workerEnv();
  const previews = startPreviewProcessor({ concurrency: env.PREVIEW_CONCURRENCY });
  const tests = startUdfTestProcessor({ concurrency: env.UDF_TEST_CONCURRENCY });
  const ping = setInterval(() => process.send?.("alive"), 500);
  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(ping);
    log.info({ why }, "preview process stopping");
    // A parent that is gone cannot wait for in-flight previews: their browsers get an error either way.
    await Promise.race([Promise.all([previews.close(), tests.close()]), new Promise((r) => setTimeout(r, why === "disconnect" ? 2_000 : 8_000))]);
    await Promise.allSettled([closeKafka(), disconnectPrisma(), closeRedis()]);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("disconnect", () => void shutdown("disconnect"));
}

main();
