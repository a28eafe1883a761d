import type { Principal } from "@/lib/auth/principal";
import { redis } from "@/lib/redis/client";
import { readLastError, readTaskStates } from "@/lib/runtime/task-state";
import { listWorkers } from "@/lib/runtime/worker-registry";
import { requirePipeline } from "./pipelines";

/**
 * Desired vs actual state of a pipeline's deployment with each task's state,
 * worker, partitions, lag and throughput (live, from Redis), and the last error.
 */
export async function pipelineStatus(principal: Principal, teamSlug: string, name: string) {
  const { pipeline } = await requirePipeline(principal, teamSlug, name, "viewer");
  const d = pipeline.deployment;
  if (!d) return { pipeline: pipeline.name, deployed: false as const };
  const [states, lastError, workers] = await Promise.all([
    readTaskStates(redis(), d.id, Math.max(d.parallelism, d.previousParallelism ?? 0)),
    readLastError(redis(), d.id),
    listWorkers(redis()),
  ]);
  const current = states.filter((s) => s.generation === d.generation);
  const tasks = Array.from({ length: d.desiredState === "running" ? d.parallelism : 0 }, (_, i) => {
    const s = current.find((t) => t.taskIndex === i);
    return s
      ? { index: i, state: s.phase, worker: s.workerId, partitions: s.partitions, recordsIn: s.recordsIn, recordsOut: s.recordsOut, recordsErrored: s.recordsErrored, recordsPerSec: Math.round(s.recordsPerSec), consumerLag: s.consumerLag, lastError: s.lastError ?? null, heartbeatAgoMs: Date.now() - s.heartbeatAt }
      : { index: i, state: "pending" as const, worker: null, partitions: {}, recordsIn: 0, recordsOut: 0, recordsErrored: 0, recordsPerSec: 0, consumerLag: 0, lastError: null, heartbeatAgoMs: null };
  });
  // Every task runs the whole plan, so a node is as healthy as its tasks; its rate is the sum over tasks.
  const taskPhases = tasks.map((t) => t.state);
  const nodeState = taskPhases.includes("failed") ? "failed" : taskPhases.length && taskPhases.every((p) => p === "running") ? "running" : d.actualState;
  const graphNodes = ((d.version.graph as { nodes?: { id: string }[] } | null)?.nodes ?? []).map((n) => n.id);
  const nodes = Object.fromEntries(
    graphNodes.map((id) => [id, { state: nodeState, recordsPerSec: Math.round(current.reduce((a, s) => a + (s.nodeRecordsPerSec?.[id] ?? 0), 0) * 10) / 10 }]),
  );
  return {
    pipeline: pipeline.name,
    deployed: true as const,
    deploymentId: d.id,
    version: d.version.version,
    desiredState: d.desiredState,
    actualState: d.actualState,
    parallelism: d.parallelism,
    deliveryGuarantee: d.deliveryGuarantee,
    generation: d.generation,
    recordsPerSec: tasks.reduce((a, t) => a + t.recordsPerSec, 0),
    consumerLag: tasks.reduce((a, t) => a + t.consumerLag, 0),
    tasks,
    /** node id → state and records/s out of it, for the canvas. */
    nodes,
    lastError: d.lastError ?? lastError?.message ?? null,
    workers: workers.map((w) => ({ id: w.id, slots: w.slots, running: w.running })),
  };
}
