import { Queue } from "bullmq";
import { jobNames, queues, runTaskPayload, type RunTaskPayload } from "@/lib/queue/contracts";
import { createQueue } from "@/lib/queue/producer";
import { MAIN_STAGE_ID } from "./naming";

/**
 * Producer side of the tasks queue. Job ids come from (deployment, generation,
 * task), so enqueueing the same task twice — by the web process and by the
 * reconciler — is dropped by BullMQ.
 */
const g = globalThis as unknown as { sluiceTaskQueue?: Queue };

export function taskQueue(): Queue {
  g.sluiceTaskQueue ??= createQueue(queues.tasks);
  return g.sluiceTaskQueue;
}

export const taskJobId = (p: RunTaskPayload) =>
  p.stage === undefined || p.stage === MAIN_STAGE_ID ? `${p.deploymentId}-g${p.generation}-t${p.taskIndex}` : `${p.deploymentId}-g${p.generation}-${p.stage}-t${p.taskIndex}`;

/** Every task of every stage: `parallelism` tasks per stage. */
export async function enqueueTasks(deploymentId: string, generation: number, parallelism: number, stages: readonly string[] = [MAIN_STAGE_ID]): Promise<void> {
  await taskQueue().addBulk(
    stages.flatMap((stage) => Array.from({ length: parallelism }, (_, taskIndex) => ({ stage, taskIndex }))).map(({ stage, taskIndex }) => {
      const data = runTaskPayload.parse({ deploymentId, taskIndex, generation, ...(stage === MAIN_STAGE_ID ? {} : { stage }) });
      return {
        name: jobNames.runTask,
        data,
        opts: {
          jobId: taskJobId(data),
          // A task that crashes is retried with backoff for as long as its deployment wants it.
          attempts: 1_000_000,
          backoff: { type: "custom" },
          removeOnComplete: { age: 3_600, count: 1_000 },
          removeOnFail: { age: 86_400 },
        },
      };
    }),
  );
}

export async function closeTaskQueue(): Promise<void> {
  await g.sluiceTaskQueue?.close();
  g.sluiceTaskQueue = undefined;
}
