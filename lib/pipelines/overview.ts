import type { Principal } from "@/lib/auth/principal";
import { redis } from "@/lib/redis/client";
import { readTaskStates } from "@/lib/runtime/task-state";
import { listPipelines, type PipelineSummary } from "./pipelines";

export interface PipelineOverview extends PipelineSummary {
  /** Live numbers of the running deployment (null when not deployed or stopped). */
  live: { tasksRunning: number; tasks: number; recordsPerSec: number; consumerLag: number; failed: number } | null;
}

/**
 * The pipelines list at a glance: one Postgres query for every pipeline with
 * its deployment, then the live task states of the running deployments read
 * from Redis in parallel on one connection (MGETs pipelined, no per-pipeline
 * status call with its worker listing and last-error reads).
 */
export async function listPipelineOverview(principal: Principal, teamSlug: string): Promise<PipelineOverview[]> {
  const pipelines = await listPipelines(principal, teamSlug);
  const running = pipelines.filter((p) => p.deployment?.desiredState === "running");
  const states = await Promise.all(running.map((p) => readTaskStates(redis(), p.deployment!.id, p.deployment!.parallelism, p.deployment!.stages)));
  const byPipeline = new Map(
    running.map((p, i) => {
      const current = states[i].filter((s) => s.generation === p.deployment!.generation);
      return [
        p.id,
        {
          tasks: p.deployment!.parallelism * Math.max(1, p.deployment!.stages.length),
          tasksRunning: current.filter((s) => s.phase === "running").length,
          failed: current.filter((s) => s.phase === "failed").length,
          // Records entering the pipeline: what the main stage reads.
          recordsPerSec: Math.round(current.filter((s) => (s.stage ?? "main") === "main").reduce((a, s) => a + s.recordsPerSec, 0)),
          consumerLag: current.reduce((a, s) => a + s.consumerLag, 0),
        },
      ];
    }),
  );
  return pipelines.map((p) => ({ ...p, live: byPipeline.get(p.id) ?? null }));
}
