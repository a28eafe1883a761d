import type { Redis } from "ioredis";
import { prisma } from "@/lib/db/prisma";
import { operationsEnv } from "@/lib/env/operations";
import { moduleLogger } from "@/lib/log/logger";
import { QUEUE_PREFIX } from "@/lib/queue/contracts";
import { writeControl } from "./control";
import { MAIN_STAGE_ID } from "./naming";
import { recordTaskError } from "./task-state";

const log = moduleLogger("restart-policy");

/**
 * Auto-restart: a task that crashes (an exception, a lost connection) is
 * restarted after an exponential backoff — 1 s, 2 s, 4 s … capped — counted
 * over that task's recent failures, so a task that ran fine for days and
 * fails once restarts at once, while a crash loop slows down. After
 * `maxFailures` failures of one task within `windowMs` (same generation) the
 * deployment is marked failed with the last error, which
 * fires "task failed" alert rules. Every failure is a TaskEvent: the
 * monitor's timeline and task table show the count, the next retry and the
 * cap. The count is per task, not per deployment: a broker or Redis restart
 * makes every task of every stage fail once at the same moment, which is no
 * crash loop (a deployment with 3 tasks in each of 2 stages would otherwise
 * be failed by one broker restart), while a task that keeps crashing is.
 */
export interface RestartPolicy {
  maxFailures: number;
  windowMs: number;
  backoffMaxMs: number;
}

export function restartPolicyFromEnv(): RestartPolicy {
  const env = operationsEnv();
  return { maxFailures: env.SLUICE_RESTART_MAX_FAILURES, windowMs: env.SLUICE_RESTART_WINDOW_MS, backoffMaxMs: env.SLUICE_RESTART_BACKOFF_MAX_MS };
}

/** 1 s for a task's first failure in the window, doubling, capped (pure). */
export function restartBackoffMs(failuresOfTask: number, capMs: number): number {
  return Math.min(capMs, 1_000 * 2 ** Math.max(0, Math.min(failuresOfTask - 1, 20)));
}

export interface RestartDecision {
  giveUp: boolean;
  /** Failures of this task in the window, this one included. */
  attempt: number;
  /** Failures of the deployment's tasks in the window, this one included. */
  failures: number;
  backoffMs: number;
}

/** What status shows for a task between a crash and its restart. */
export interface TaskRestartInfo {
  restarts: number;
  nextRetryAt: number;
  lastError: string;
  maxFailures: number;
  windowMs: number;
}

/** A task is (stage, index): with keyed scale-out every stage has tasks 0..parallelism-1. */
export interface TaskRef {
  deploymentId: string;
  generation: number;
  taskIndex: number;
  stage?: string;
}

const restartKey = (deploymentId: string, taskIndex: number, stage = MAIN_STAGE_ID) =>
  stage === MAIN_STAGE_ID ? `${QUEUE_PREFIX}:task:${deploymentId}:${taskIndex}:restart` : `${QUEUE_PREFIX}:task:${deploymentId}:${stage}:${taskIndex}:restart`;

/** Restart info of tasks 0..tasks-1 of each stage, keyed "stage/index". */
export async function readRestartInfo(redis: Redis, deploymentId: string, tasks: number, stages: readonly string[] = [MAIN_STAGE_ID]): Promise<Map<string, TaskRestartInfo>> {
  const out = new Map<string, TaskRestartInfo>();
  if (tasks <= 0 || !stages.length) return out;
  const ids = stages.flatMap((stage) => Array.from({ length: tasks }, (_, i) => ({ stage, i })));
  const values = await redis.mget(ids.map(({ stage, i }) => restartKey(deploymentId, i, stage)));
  values.forEach((v, k) => v && out.set(`${ids[k].stage}/${ids[k].i}`, JSON.parse(v) as TaskRestartInfo));
  return out;
}

/**
 * Stops a deployment that cannot run: desired stopped, actual failed, the
 * reason in status. Used when retrying cannot help (TaskFatal) and when a
 * crash loop exhausts the restart policy.
 */
export async function failDeployment(redis: Redis, deploymentId: string, generation: number, message: string): Promise<void> {
  // Only the generation that failed: a redeploy meanwhile has its own fate.
  const updated = await prisma().deployment.updateMany({
    where: { id: deploymentId, generation },
    data: { desiredState: "stopped", actualState: "failed", lastError: message, generation: { increment: 1 } },
  });
  if (updated.count) {
    const d = await prisma().deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    await writeControl(redis, d.id, { generation: d.generation, desired: "stopped" });
  }
  await recordTaskError(redis, deploymentId, message);
}

/** Records a crash of a task and decides: restart after a backoff, or give up and fail the deployment. */
export async function recordTaskFailure(
  redis: Redis,
  task: TaskRef,
  message: string,
  policy: RestartPolicy = restartPolicyFromEnv(),
  now = Date.now(),
): Promise<RestartDecision> {
  const since = new Date(now - policy.windowMs);
  const recent = await prisma().taskEvent.findMany({
    where: { deploymentId: task.deploymentId, generation: task.generation, kind: "failed", createdAt: { gte: since } },
    select: { taskIndex: true, stage: true },
  });
  const stage = task.stage ?? MAIN_STAGE_ID;
  const failures = recent.length + 1;
  const attempt = recent.filter((e) => e.taskIndex === task.taskIndex && e.stage === stage).length + 1;
  const giveUp = attempt >= policy.maxFailures;
  const backoffMs = giveUp ? 0 : restartBackoffMs(attempt, policy.backoffMaxMs);
  await prisma().taskEvent.create({
    data: { deploymentId: task.deploymentId, generation: task.generation, stage, taskIndex: task.taskIndex, kind: giveUp ? "gave_up" : "failed", message, attempt, backoffMs: giveUp ? null : backoffMs },
  });
  if (giveUp) {
    const windowText = policy.windowMs % 60_000 === 0 ? `${policy.windowMs / 60_000} min` : `${Math.round(policy.windowMs / 1000)} s`;
    const which = stage === MAIN_STAGE_ID ? `task ${task.taskIndex}` : `task ${task.taskIndex} of stage ${stage}`;
    const reason = `${which} failed ${attempt} times within ${windowText} (the limit is ${policy.maxFailures} per task); last error: ${message}`;
    log.warn({ deployment: task.deploymentId, failures }, "crash loop: failing the deployment");
    await failDeployment(redis, task.deploymentId, task.generation, reason);
    await redis.del(restartKey(task.deploymentId, task.taskIndex, stage));
  } else {
    const info: TaskRestartInfo = { restarts: attempt, nextRetryAt: now + backoffMs, lastError: message, maxFailures: policy.maxFailures, windowMs: policy.windowMs };
    await redis.set(restartKey(task.deploymentId, task.taskIndex, stage), JSON.stringify(info), "PX", policy.windowMs);
  }
  return { giveUp, attempt, failures, backoffMs };
}

/** A task that can never run (TaskFatal): recorded in its history, and the deployment fails with the reason. */
export async function recordTaskGaveUp(redis: Redis, task: TaskRef, message: string): Promise<void> {
  await prisma().taskEvent.create({ data: { deploymentId: task.deploymentId, generation: task.generation, stage: task.stage ?? MAIN_STAGE_ID, taskIndex: task.taskIndex, kind: "gave_up", message } });
  await failDeployment(redis, task.deploymentId, task.generation, message);
}
