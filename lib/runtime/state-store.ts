import type { Kafka, Message } from "kafkajs";
import { kafkaAdmin } from "@/lib/kafka/shared";
import { PartitionReader } from "@/lib/kafka/partition-reader";
import { changelogTopic, stageChangelogTopic } from "./naming";

/**
 * Window state of a running task lives in a compacted changelog topic, one
 * partition per task: every batch's state changes are written with the batch's
 * output (in the same transaction under exactly_once), and a task that starts —
 * after a redeploy or on another worker after a crash — rebuilds its state by
 * reading its partition (read_committed) before it consumes new input. The
 * topic's name is `changelogTopic`, a Window stage's `stageChangelogTopic`
 * (naming.ts).
 */


/** Creates the changelog topic (compacted, one partition per task) if it is missing. */
export async function ensureChangelogTopic(pipelineId: string, stateEpoch: number, partitions: number): Promise<string> {
  return ensureCompactedTopic(changelogTopic(pipelineId, stateEpoch), partitions);
}

/** Creates a Window stage's changelog topic (compacted, one partition per key group) if it is missing. */
export async function ensureStageChangelogTopic(pipelineId: string, stage: string, stateEpoch: number, keyGroups: number): Promise<string> {
  return ensureCompactedTopic(stageChangelogTopic(pipelineId, stage, stateEpoch), keyGroups);
}

async function ensureCompactedTopic(topic: string, partitions: number): Promise<string> {
  const admin = await kafkaAdmin();
  if (!(await admin.listTopics()).includes(topic)) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, configEntries: [{ name: "cleanup.policy", value: "compact" }, { name: "retention.ms", value: "-1" }] }],
    });
  }
  return topic;
}

/** Deletes changelog topics of earlier state epochs (their state was reset), the task layout's and every stage's. */
export async function dropOldChangelogs(pipelineId: string, stateEpoch: number): Promise<void> {
  const admin = await kafkaAdmin();
  const prefix = `sluice.state.${pipelineId}.`;
  const old = (await admin.listTopics()).filter((t) => {
    if (!t.startsWith(prefix)) return false;
    const m = /\.?e(\d+)$/.exec(t.slice(prefix.length - 1));
    return m !== null && Number(m[1]) < stateEpoch;
  });
  if (old.length) await admin.deleteTopics({ topics: old });
}

/** Every changelog topic of a pipeline (for deleting the pipeline). */
export async function pipelineStateTopics(pipelineId: string): Promise<string[]> {
  const admin = await kafkaAdmin();
  return (await admin.listTopics()).filter((t) => t.startsWith(`sluice.state.${pipelineId}.`));
}

const SEP = "\u0000";

export interface StateChange {
  key: string;
  value: unknown;
}

/** Changelog records for the plan's drained changes: key "<node>\0<state key>", null value deletes. */
export function changelogMessages(changes: Map<string, StateChange[]>, partition: number): Message[] {
  const out: Message[] = [];
  for (const [nodeId, list] of changes) {
    for (const c of list) out.push({ key: `${nodeId}${SEP}${c.key}`, value: c.value === null ? null : JSON.stringify(c.value), partition });
  }
  return out;
}

/** Reads a task's changelog partition to its end: node id → changes in log order. */
export async function readChangelog(kafka: Kafka, topic: string, partition: number): Promise<Map<string, StateChange[]>> {
  const admin = await kafkaAdmin();
  const end = BigInt((await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition)?.high ?? "0");
  const out = new Map<string, StateChange[]>();
  const reader = await PartitionReader.open(kafka);
  try {
    let offset = BigInt((await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition)?.low ?? "0");
    while (offset < end) {
      const res = await reader.fetch(topic, partition, offset.toString(), { maxBytes: 8 * 1024 * 1024 });
      for (const r of res.records) {
        const k = r.key?.toString("utf8") ?? "";
        const i = k.indexOf(SEP);
        if (i < 0) continue;
        const nodeId = k.slice(0, i);
        let list = out.get(nodeId);
        if (!list) out.set(nodeId, (list = []));
        list.push({ key: k.slice(i + 1), value: r.value === null ? null : JSON.parse(r.value.toString("utf8")) });
      }
      const next = BigInt(res.nextOffset);
      if (next <= offset) break;
      offset = next;
    }
  } finally {
    await reader.close();
  }
  return out;
}
