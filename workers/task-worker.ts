/**
 * Worker process entry (`npm run worker`). Runs pipeline tasks (up to
 * WORKER_SLOTS at once), live previews (in a child process), alert deliveries,
 * and — when it holds the lease — the deployment reconciler, the alert
 * evaluator and metrics retention; registers itself with a heartbeat.
 * Shutdown on SIGTERM/SIGINT, in order: stop taking work, hand running tasks
 * back at a committed point, flush metrics, deregister, close connections.
 */
// First, before anything loads kafkajs (see the module).
import "@/lib/kafka/linear-grouping";
import { hostname } from "node:os";
import { closeClickHouse } from "@/lib/clickhouse/client";
import { disconnectPrisma } from "@/lib/db/prisma";
import { workerEnv } from "@/lib/env/worker";
import { closeKafka } from "@/lib/kafka/shared";
import { moduleLogger } from "@/lib/log/logger";
import { closeRedis, createRedis } from "@/lib/redis/client";
import { startPreviewHost } from "@/lib/runtime/preview/host";
import { closeDeliveryQueue, startDeliveryProcessor } from "@/lib/alerts/deliveries";
import { leaderDuties } from "@/lib/runtime/leader-duties";
import { startReconciler } from "@/lib/runtime/reconciler";
import { ProcessStats } from "@/lib/runtime/process-stats";
import { startTaskProcessor } from "@/lib/runtime/task-processor";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { deregister, heartbeat, HEARTBEAT_INTERVAL_MS, type WorkerInfo } from "@/lib/runtime/worker-registry";

const log = moduleLogger("worker");

async function main() {
  const env = workerEnv();
  const redis = createRedis({ maxRetriesPerRequest: 2 });
  const info: WorkerInfo = {
    id: env.WORKER_NAME ?? `${hostname()}-${process.pid}`,
    host: hostname(),
    pid: process.pid,
    slots: env.WORKER_SLOTS,
    running: 0,
    startedAt: Date.now(),
    heartbeatAt: Date.now(),
  };
  const tasks = startTaskProcessor({ workerId: info.id, slots: env.WORKER_SLOTS, redis });
  // Previews run in a child process: they can never block this event loop (host.ts).
  const previews = startPreviewHost({ concurrency: env.PREVIEW_CONCURRENCY, stallKillMs: env.PREVIEW_STALL_KILL_MS });
  const deliveries = startDeliveryProcessor();
  // The lease holder also evaluates alert rules and drops expired metrics (leader-duties.ts).
  const reconciler = startReconciler(redis, 1_000, { id: info.id, duties: leaderDuties(env) });
  const stats = new ProcessStats();
  await heartbeat(redis, info);
  const timer = setInterval(() => {
    Object.assign(info, { running: tasks.running(), tasks: tasks.tasks() }, stats.read());
    heartbeat(redis, info).catch((err) => log.warn({ err }, "heartbeat failed; will retry"));
  }, HEARTBEAT_INTERVAL_MS);
  log.info({ worker: info.id, slots: info.slots }, "worker ready");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "worker stopping");
    clearInterval(timer);
    stats.stop();
    await reconciler.close();
    await Promise.all([tasks.close(), previews.close(), deliveries.close()]);
    await deregister(redis, info.id).catch(() => {});
    await Promise.allSettled([closeTaskQueue(), closeDeliveryQueue(), closeKafka(), closeClickHouse(), disconnectPrisma(), closeRedis()]);
    await redis.quit().catch(() => {});
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err) => {
  log.fatal({ err }, "worker failed to start");
  process.exit(1);
});
