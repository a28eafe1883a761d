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

/**
 * Work that must run in one place at a time and survive a worker's death: it
 * runs on the worker that holds the reconciler lease, on its own interval
 * (the alert evaluator every 10 s, metrics retention every hour). A new leader
 * runs each duty at once.
 */
export interface LeaderDuty {
  name: string;
  intervalMs: number;
  run(redis: Redis): Promise<unknown>;
}

/** The lease holder's id ("<worker id>/<random>"), or null when no worker leads. */
export async function currentLeader(redis: Redis): Promise<string | null> {
  return redis.get(LEADER_KEY);
}

export function startReconciler(redis: Redis, intervalMs = 1_000, opts: { id?: string; duties?: LeaderDuty[] } = {}): { close(): Promise<void> } {
  const me = opts.id ? `${opts.id}/${randomUUID()}` : randomUUID();
  let stopped = false;
  let running: Promise<void> | undefined;
  const duties = (opts.duties ?? []).map((d) => ({ ...d, lastStart: 0, running: undefined as Promise<void> | undefined }));
  let leading = false;
  const runDuties = () => {
    for (const d of duties) {
      if (d.running || Date.now() - d.lastStart < d.intervalMs) continue;
      d.lastStart = Date.now();
      d.running = d
        .run(redis)
        .then(() => undefined)
        .catch((err) => log.warn({ err, duty: d.name }, "leader duty failed; will retry"))
        .finally(() => {
          d.running = undefined;
        });
    }
  };
  const tick = async () => {
    // Lease: take it if free, keep it if ours.
    const got = (await redis.set(LEADER_KEY, me, "PX", LEADER_TTL_MS, "NX")) === "OK" || (await redis.get(LEADER_KEY)) === me;
    if (!got) {
      leading = false;
      return;
    }
    await redis.pexpire(LEADER_KEY, LEADER_TTL_MS);
    if (!leading) {
      leading = true;
      for (const d of duties) d.lastStart = 0;
      log.info({ leader: me }, "holding the reconciler lease");
    }
    runDuties();
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
      await Promise.all(duties.map((d) => d.running));
      if ((await redis.get(LEADER_KEY).catch(() => null)) === me) await redis.del(LEADER_KEY).catch(() => {});
    },
  };
}
