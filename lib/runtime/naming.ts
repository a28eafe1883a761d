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
