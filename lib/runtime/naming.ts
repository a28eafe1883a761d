import { MAIN_STAGE as MAIN_STAGE_ID } from "@/lib/pipeline/stages";
/**
 * Names that must stay stable across redeploys, because Kafka remembers them:
 * the consumer group (committed offsets: a new version continues where the old
 * one stopped) and transactional ids (a task's producer fences its zombies).
 */
export const consumerGroupId = (pipelineId: string) => `sluice.pipeline.${pipelineId}`;

/** One transactional id per task index: the fixed unit of input with the static assigner. */
export const transactionalId = (pipelineId: string, taskIndex: number) => `sluice.pipeline.${pipelineId}.task-${taskIndex}`;

/** The pipeline's dead-letter stream (a catalog stream owned by the pipeline's team). */
export const deadLetterStreamName = (teamSlug: string, pipelineName: string) => `dlq.${teamSlug}.${pipelineName}`;

/**
 * Keyed scale-out (docs/runtime.md "Stages"): every stage but "main" has its
 * own consumer group and transactional ids (its input is a repartition
 * stream), named by the stage (its Window node's id). "main" keeps the names
 * above, so pipelines deployed before stages existed keep their offsets.
 */
export { MAIN_STAGE as MAIN_STAGE_ID } from "@/lib/pipeline/stages";
export const stageConsumerGroupId = (pipelineId: string, stage: string) => (stage === MAIN_STAGE_ID ? consumerGroupId(pipelineId) : `${consumerGroupId(pipelineId)}.${stage}`);
export const stageTransactionalId = (pipelineId: string, stage: string, taskIndex: number) =>
  stage === MAIN_STAGE_ID ? transactionalId(pipelineId, taskIndex) : `sluice.pipeline.${pipelineId}.${stage}.task-${taskIndex}`;

/** A Window's repartition stream: an internal catalog stream of the pipeline's team, hidden from the catalog. */
export const repartitionStreamName = (pipelineId: string, windowNodeId: string) => `__sluice.${pipelineId}.${windowNodeId}.repartition`;
