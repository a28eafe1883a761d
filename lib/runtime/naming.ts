import { MAIN_STAGE as MAIN_STAGE_ID } from "@/lib/pipeline/stages";
/**
 * Names the platform gives to what it creates in Kafka. Topics the runtime
 * creates must stay stable across redeploys (Kafka remembers them), and must
 * be impossible for a team to claim first: every topic name built here starts
 * with one of PLATFORM_TOPIC_PREFIXES, which no stream may be created under
 * (lib/warehouse/reserved-names.ts; naming.test.ts checks every builder).
 */

/**
 * Topic-name prefixes reserved for the platform: `sluice.` holds window-state
 * changelogs (and names consumer groups and transactional ids), `__sluice.`
 * keyed scale-out's repartition streams and whatever internal topic comes
 * next; `_` is Kafka's and its tools' convention for internal topics
 * (`__consumer_offsets`, `_schemas`, …).
 */
export const PLATFORM_TOPIC_PREFIXES = [
  { prefix: "dlq.", holds: "pipelines' dead-letter streams" },
  { prefix: "sluice.", holds: "the runtime's own topics, such as window-state changelogs" },
  { prefix: "__sluice.", holds: "the runtime's internal topics, such as repartition streams" },
  { prefix: "_", holds: "internal topics of Kafka and its tools" },
] as const;

/**
 * The consumer group (committed offsets: a new version continues where the old
 * one stopped). Not a topic, but under the same prefix so nothing can collide with it.
 */
export const consumerGroupId = (pipelineId: string) => `sluice.pipeline.${pipelineId}`;

/** One transactional id per task index: the fixed unit of input with the static assigner. */
export const transactionalId = (pipelineId: string, taskIndex: number) => `sluice.pipeline.${pipelineId}.task-${taskIndex}`;

/** The pipeline's dead-letter stream (a private catalog stream owned by the pipeline's team). */
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

/** A stateful pipeline's window-state changelog (compacted, one partition per task; no catalog entry). */
export const changelogTopic = (pipelineId: string, stateEpoch: number) => `sluice.state.${pipelineId}.e${stateEpoch}`;

/**
 * A Window stage's changelog (keyed scale-out): one partition per key group,
 * so a task restores exactly the key groups it owns and a rescale moves them
 * whole (docs/runtime.md "Stages").
 */
export const stageChangelogTopic = (pipelineId: string, stage: string, stateEpoch: number) => `sluice.state.${pipelineId}.${stage}.e${stateEpoch}`;
