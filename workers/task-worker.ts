/**
 * Worker process entry (`npm run worker`). Registers this process in the worker
 * registry with its slot limit and keeps its heartbeat; pipeline task execution
 * (lib/runtime) runs inside these processes. Shutdown on SIGTERM/SIGINT:
 * stop taking work, finish in-flight batches, deregister, close connections.
 */
import { hostname } from "node:os";
import { workerEnv } from "@/lib/env/worker";
import { moduleLogger } from "@/lib/log/logger";
import { createRedis } from "@/lib/redis/client";
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
  await heartbeat(redis, info);
  const timer = setInterval(() => {
    heartbeat(redis, info).catch((err) => log.warn({ err }, "heartbeat failed; will retry"));
  }, HEARTBEAT_INTERVAL_MS);
  log.info({ worker: info.id, slots: info.slots }, "worker ready");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "worker stopping");
    clearInterval(timer);
    await deregister(redis, info.id).catch(() => {});
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
