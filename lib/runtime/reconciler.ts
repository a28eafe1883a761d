import type { Redis } from "ioredis";
import { randomUUID } from "node:crypto";
import type { ActualState } from "@prisma/client";
import { prisma } from "@/lib/db/prisma";
import { moduleLogger } from "@/lib/log/logger";
import { QUEUE_PREFIX, runTaskPayload } from "@/lib/queue/contracts";
import { readControl, writeControl } from "./control";
import { MAIN_STAGE_ID } from "./naming";
import { enqueueTasks, taskJobId, taskQueue } from "./task-queue";
import { readTaskStates } from "./task-state";

const log = moduleLogger("reconciler");
const LEADER_KEY = `${QUEUE_PREFIX}:reconciler:leader`;
const LEADER_TTL_MS = 5_000;

/**
 * Drives every deployment's actual state towards its desired state, like a
 * controller: re-enqueues a task whose job vanished or ended, mirrors the
 * control word into Redis, and records the actual state in Postgres. One
 * worker process leads at a time (a Redis lease); the others stand by.
 */
export async function reconcileOnce(redis: Redis): Promise<void> {
  const deployments = await prisma().deployment.findMany({
    where: { OR: [{ desiredState: "running" }, { actualState: { in: ["pending", "starting", "running", "stopping"] } }] },
  });
  for (const d of deployments) {
    const word = await readControl(redis, d.id);
    if (!word || word.generation !== d.generation || word.desired !== d.desiredState) {
      await writeControl(redis, d.id, { generation: d.generation, desired: d.desiredState });
    }
    const stages = d.stages.length ? d.stages : [MAIN_STAGE_ID];
    const states = await readTaskStates(redis, d.id, Math.max(d.parallelism, d.previousParallelism ?? 0), [...new Set([MAIN_STAGE_ID, ...stages, ...d.previousStages])]);
    const current = states.filter((s) => s.generation === d.generation);
    let actual: ActualState;
    if (d.desiredState === "running") {
      const present = new Set(current.map((s) => `${s.stage ?? MAIN_STAGE_ID}/${s.taskIndex}`));
      let enqueued = false;
      for (const stage of stages) {
        for (let i = 0; i < d.parallelism && !enqueued; i++) {
          if (present.has(`${stage}/${i}`)) continue;
          const job = await taskQueue().getJob(taskJobId(runTaskPayload.parse({ deploymentId: d.id, taskIndex: i, generation: d.generation, ...(stage === MAIN_STAGE_ID ? {} : { stage }) })));
          const jobState = job ? await job.getState() : "missing";
          if (jobState === "completed" || jobState === "failed") await job!.remove().catch(() => {});
          if (jobState === "completed" || jobState === "failed" || jobState === "missing" || jobState === "unknown") {
            log.info({ deployment: d.id, stage, task: i, jobState }, "re-enqueueing task");
            await enqueueTasks(d.id, d.generation, d.parallelism, stages); // job ids dedupe the tasks that are still queued
            enqueued = true;
          }
        }
      }
      actual = current.length === d.parallelism * stages.length && current.every((s) => s.phase === "running") ? "running" : "starting";
    } else {
      actual = states.some((s) => s.phase === "starting" || s.phase === "running" || s.phase === "stopping") ? "stopping" : d.actualState === "failed" ? "failed" : "stopped";
    }
    // Compare-and-set: a task that failed meanwhile has set "failed" (and a deploy
    // or stop a new generation); this pass's view of the row is stale then, and
    // must not overwrite that clear state.
    if (actual !== d.actualState) await prisma().deployment.updateMany({ where: { id: d.id, actualState: d.actualState, generation: d.generation }, data: { actualState: actual } });
  }
}

export function startReconciler(redis: Redis, intervalMs = 1_000): { close(): Promise<void> } {
  const me = randomUUID();
  let stopped = false;
  let running: Promise<void> | undefined;
  const tick = async () => {
    // Lease: take it if free, keep it if ours.
    const got = (await redis.set(LEADER_KEY, me, "PX", LEADER_TTL_MS, "NX")) === "OK" || (await redis.get(LEADER_KEY)) === me;
    if (!got) return;
    await redis.pexpire(LEADER_KEY, LEADER_TTL_MS);
    await reconcileOnce(redis);
  };
  const timer = setInterval(() => {
    if (stopped || running) return;
    running = tick()
      .catch((err) => log.warn({ err }, "reconcile failed; will retry"))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  return {
    async close() {
      stopped = true;
      clearInterval(timer);
      await running;
      if ((await redis.get(LEADER_KEY).catch(() => null)) === me) await redis.del(LEADER_KEY).catch(() => {});
    },
  };
}
