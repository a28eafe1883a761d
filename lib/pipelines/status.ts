import type { Principal } from "@/lib/auth/principal";
import { redis } from "@/lib/redis/client";
import { readRestartInfo } from "@/lib/runtime/restart-policy";
import { readLastError, readTaskStates } from "@/lib/runtime/task-state";
import { MAIN_STAGE, nodeStages } from "@/lib/pipeline/stages";
import type { Pipeline } from "@/lib/pipeline";
import { capacityOf, waitingReason } from "@/lib/runtime/capacity";
import { taskQueue } from "@/lib/runtime/task-queue";
import { listWorkers } from "@/lib/runtime/worker-registry";
import { repartitionStreamName } from "@/lib/runtime/naming";
import { requirePipeline } from "./pipelines";

/**
 * Desired vs actual state of a pipeline's deployment with each task's state,
 * worker, partitions, lag and throughput (live, from Redis), and the last error.
 */
export async function pipelineStatus(principal: Principal, teamSlug: string, name: string) {
  const { pipeline } = await requirePipeline(principal, teamSlug, name, "viewer");
  const d = pipeline.deployment;
  if (!d) return { pipeline: pipeline.name, deployed: false as const };
  const stages = d.stages.length ? d.stages : [MAIN_STAGE];
  const [states, lastError, workers, activeTasks, restarts] = await Promise.all([
    readTaskStates(redis(), d.id, Math.max(d.parallelism, d.previousParallelism ?? 0), stages),
    readLastError(redis(), d.id),
    listWorkers(redis()),
    taskQueue().getActiveCount(),
    readRestartInfo(redis(), d.id, d.parallelism, stages),
  ]);
  const capacity = capacityOf(workers, activeTasks);
  const current = states.filter((s) => s.generation === d.generation);
  // Every stage has `parallelism` tasks (docs/runtime.md "Stages"); most pipelines have the main stage only.
  const tasks = stages.flatMap((stage) =>
    Array.from({ length: d.desiredState === "running" ? d.parallelism : 0 }, (_, i) => {
      const s = current.find((t) => t.taskIndex === i && (t.stage ?? MAIN_STAGE) === stage);
      // Auto-restart: failures of this task in the restart window, when it retries next, and the cap (restart-policy.ts).
      const r = restarts.get(`${stage}/${i}`);
      const restart = { restarts: r?.restarts ?? 0, nextRetryAt: r && r.nextRetryAt > Date.now() ? r.nextRetryAt : null, restartLimit: r ? { maxFailures: r.maxFailures, windowMs: r.windowMs } : null };
      return s
        ? { index: i, stage, state: s.phase, worker: s.workerId, partitions: s.partitions, recordsIn: s.recordsIn, recordsOut: s.recordsOut, recordsErrored: s.recordsErrored, recordsPerSec: Math.round(s.recordsPerSec), consumerLag: s.consumerLag, lastError: s.lastError ?? r?.lastError ?? null, heartbeatAgoMs: Date.now() - s.heartbeatAt, ...restart }
        : { index: i, stage, state: restart.nextRetryAt ? ("restarting" as const) : ("pending" as const), worker: null, partitions: {}, recordsIn: 0, recordsOut: 0, recordsErrored: 0, recordsPerSec: 0, consumerLag: 0, lastError: r?.lastError ?? null, heartbeatAgoMs: null, ...restart };
    }),
  );
  // A node runs in one stage: it is as healthy as that stage's tasks, and its rate is the sum over them.
  const graph = d.version.graph as unknown as Pipeline | null;
  const stageOf = stages.length > 1 && graph?.nodes ? nodeStages(graph).stageOf : new Map<string, string>();
  const stageState = (stage: string) => {
    const phases = tasks.filter((t) => t.stage === stage).map((t) => t.state);
    return phases.includes("failed") ? "failed" : phases.length && phases.every((p) => p === "running") ? "running" : d.actualState;
  };
  // A task that has not started while every slot is busy (or no worker runs) waits for capacity: say so, with how to add it.
  const waiting = d.desiredState === "running" && tasks.some((t) => t.state === "pending") ? waitingReason(capacity) : null;
  const nodes = Object.fromEntries(
    (graph?.nodes ?? []).map((n) => {
      const stage = stageOf.get(n.id) ?? MAIN_STAGE;
      const own = current.filter((s) => (s.stage ?? MAIN_STAGE) === stage);
      return [n.id, { state: stageState(stage), stage, tasks: tasks.filter((t) => t.stage === stage).length, recordsPerSec: Math.round(own.reduce((a, s) => a + (s.nodeRecordsPerSec?.[n.id] ?? 0), 0) * 10) / 10 }];
    }),
  );
  return {
    pipeline: pipeline.name,
    deployed: true as const,
    deploymentId: d.id,
    version: d.version.version,
    desiredState: d.desiredState,
    actualState: d.actualState,
    parallelism: d.parallelism,
    /** Key groups of a stateful pipeline (the most tasks a Window stage can have); null for other pipelines. */
    maxParallelism: d.maxParallelism,
    stages,
    /** The internal streams between stages (one per Window stage), hidden from the catalog. */
    internalStreams: stages.filter((s) => s !== MAIN_STAGE).map((s) => repartitionStreamName(pipeline.id, s)),
    deliveryGuarantee: d.deliveryGuarantee,
    generation: d.generation,
    // Records entering the pipeline (the main stage reads the sources).
    recordsPerSec: tasks.filter((t) => t.stage === MAIN_STAGE).reduce((a, t) => a + t.recordsPerSec, 0),
    consumerLag: tasks.reduce((a, t) => a + t.consumerLag, 0),
    tasks,
    /** node id → state and records/s out of it, for the canvas. */
    nodes,
    lastError: d.lastError ?? lastError?.message ?? null,
    /** Why pending tasks are not running, when it is capacity ("waiting for a free worker slot: 8 of 8 in use"); null otherwise. */
    waiting,
    capacity,
    workers: workers.map((w) => ({ id: w.id, slots: w.slots, running: w.running })),
  };
}

/** Worker capacity right now (for `sluice pipeline deploy`'s note when its tasks will wait). */
export async function currentCapacity() {
  const [workers, activeTasks] = await Promise.all([listWorkers(redis()), taskQueue().getActiveCount()]);
  return capacityOf(workers, activeTasks);
}
