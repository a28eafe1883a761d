import type { Redis } from "ioredis";
import { QUEUE_PREFIX } from "@/lib/queue/contracts";
import { MAIN_STAGE_ID } from "./naming";

/**
 * Live task state in Redis (fast-changing, so not in Postgres): each running
 * task refreshes its key every second with a short TTL. A task whose worker
 * died (kill -9) vanishes within a few seconds, which is how status views and
 * the reconciler know it is gone.
 */
export type TaskPhase = "starting" | "running" | "stopping" | "stopped" | "failed";

export interface TaskState {
  deploymentId: string;
  /** The stage the task runs ("main" when absent: tasks started by an older worker). */
  stage?: string;
  taskIndex: number;
  generation: number;
  phase: TaskPhase;
  workerId: string;
  startedAt: number;
  heartbeatAt: number;
  partitions: Record<string, number[]>;
  recordsIn: number;
  recordsOut: number;
  recordsErrored: number;
  /** Sum over assigned partitions of high watermark − next offset. */
  consumerLag: number;
  recordsPerSec: number;
  /** Records/s out of each node (optional: tasks started by an older worker do not write it). */
  nodeRecordsPerSec?: Record<string, number>;
  lastError?: string;
  /** Every metric count of this task before this time (epoch ms) is in ClickHouse; later minutes are "pending" in reconciliation. */
  flushedThrough?: number;
}

export const TASK_STATE_TTL_MS = 5_000;

const taskKey = (deploymentId: string, taskIndex: number, stage = MAIN_STAGE_ID) =>
  stage === MAIN_STAGE_ID ? `${QUEUE_PREFIX}:task:${deploymentId}:${taskIndex}` : `${QUEUE_PREFIX}:task:${deploymentId}:${stage}:${taskIndex}`;
const lastErrorKey = (deploymentId: string) => `${QUEUE_PREFIX}:deployment:${deploymentId}:last-error`;

export async function writeTaskState(redis: Redis, s: TaskState): Promise<void> {
  await redis.set(taskKey(s.deploymentId, s.taskIndex, s.stage), JSON.stringify({ ...s, heartbeatAt: Date.now() }), "PX", TASK_STATE_TTL_MS);
}

export async function clearTaskState(redis: Redis, deploymentId: string, taskIndex: number, stage?: string): Promise<void> {
  await redis.del(taskKey(deploymentId, taskIndex, stage));
}

/** The live state of tasks 0..maxTasks-1 of each stage (main only when none are given). */
export async function readTaskStates(redis: Redis, deploymentId: string, maxTasks: number, stages: readonly string[] = [MAIN_STAGE_ID]): Promise<TaskState[]> {
  if (maxTasks <= 0 || stages.length === 0) return [];
  const values = await redis.mget(stages.flatMap((stage) => Array.from({ length: maxTasks }, (_, i) => taskKey(deploymentId, i, stage))));
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as TaskState);
}

/** The last task error of a deployment survives the task (shown in status until the next error or deploy). */
export async function recordTaskError(redis: Redis, deploymentId: string, message: string): Promise<void> {
  await redis.set(lastErrorKey(deploymentId), JSON.stringify({ message, at: Date.now() }), "EX", 7 * 86_400);
}

export async function readLastError(redis: Redis, deploymentId: string): Promise<{ message: string; at: number } | null> {
  const v = await redis.get(lastErrorKey(deploymentId));
  return v ? (JSON.parse(v) as { message: string; at: number }) : null;
}

export async function clearLastError(redis: Redis, deploymentId: string): Promise<void> {
  await redis.del(lastErrorKey(deploymentId));
}
