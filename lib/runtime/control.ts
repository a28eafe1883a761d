import type { Redis } from "ioredis";
import { QUEUE_PREFIX } from "@/lib/queue/contracts";

/**
 * The control word of a deployment, mirrored from Postgres into Redis so that
 * running tasks can poll it cheaply (every 500 ms): a task whose generation is
 * no longer current, or whose deployment is no longer wanted running, stops at
 * its next committed point. Postgres stays the source of truth; the reconciler
 * rewrites this key if it is ever lost.
 */
export interface ControlWord {
  generation: number;
  desired: "running" | "stopped";
}

const controlKey = (deploymentId: string) => `${QUEUE_PREFIX}:deployment:${deploymentId}:control`;

export async function writeControl(redis: Redis, deploymentId: string, word: ControlWord): Promise<void> {
  await redis.set(controlKey(deploymentId), JSON.stringify(word));
}

export async function readControl(redis: Redis, deploymentId: string): Promise<ControlWord | null> {
  const v = await redis.get(controlKey(deploymentId));
  return v ? (JSON.parse(v) as ControlWord) : null;
}

export async function deleteControl(redis: Redis, deploymentId: string): Promise<void> {
  await redis.del(controlKey(deploymentId));
}

/** True while a task of `generation` should keep running. */
export function shouldRun(word: ControlWord | null, generation: number): boolean {
  return word !== null && word.desired === "running" && word.generation === generation;
}
