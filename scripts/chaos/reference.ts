import type { Admin, Kafka } from "kafkajs";
import { PartitionReader, type ReadRecord } from "@/lib/kafka/partition-reader";
import type { Plan } from "@/lib/compiler";
import { encodeRecord } from "@/lib/pipeline";

/**
 * Reading whole topics back (read_committed, as a downstream consumer sees
 * them) and the in-process reference: the same compiled plan the tasks run,
 * over the records the sources actually hold, in one process without faults —
 * as the live preview runs it. Never a second implementation of an operator.
 */
export interface TopicContents {
  records: ReadRecord[];
  /** Partitions whose committed data ends before the high watermark: a transaction still open (hanging) there. */
  openTransactions: { partition: number; stableEnd: string; highWatermark: string }[];
}

export async function readTopic(kafka: Kafka, admin: Admin, topic: string): Promise<TopicContents> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const out: TopicContents = { records: [], openTransactions: [] };
  const reader = await PartitionReader.open(kafka);
  try {
    for (const { partition, high, low } of offsets.sort((a, b) => a.partition - b.partition)) {
      let offset = low;
      while (BigInt(offset) < BigInt(high)) {
        const res = await reader.fetch(topic, partition, offset, { maxBytes: 8 * 1024 * 1024 });
        for (const r of res.records) out.records.push(r);
        if (res.nextOffset === offset) {
          out.openTransactions.push({ partition, stableEnd: offset, highWatermark: high });
          break;
        }
        offset = res.nextOffset;
      }
    }
  } finally {
    await reader.close();
  }
  return out;
}

/** What a record's plan meta is in a task (kafkajs's message) — plus where it came from, for dead letters. */
export interface ReferenceMeta {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  timestamp: string;
}

export interface ReferenceOutput {
  /** Sink node id → records it writes: the source record's key and the encoded value, as a task writes them. */
  sinks: Map<string, { key: string | null; value: Uint8Array; meta?: ReferenceMeta }[]>;
  errors: { nodeId: string; reason: string; source: ReferenceMeta | undefined }[];
}

/** Event time of a source record for ordering the reference's input (records without one first: they fail at the Source). */
function eventTime(r: ReadRecord): number {
  try {
    const ts = (JSON.parse(r.value?.toString("utf8") ?? "null") as { ts?: unknown } | null)?.ts;
    return typeof ts === "number" ? ts : -Infinity;
  } catch {
    return -Infinity;
  }
}

/**
 * Runs the plan over `inputs` (stream → its records). Stateless plans get each
 * partition in offset order. Plans with Windows get every record in event-time
 * order (stable): the workload's disorder is within the windows' bound, so no
 * record is late in either the reference or the pipeline, and the reference's
 * one watermark closes exactly the windows the per-partition watermarks close.
 * Nothing is flushed: windows still open at the end (those of the closing
 * markers) are open in the running pipeline too.
 */
export async function runReference(plan: Plan, inputs: Map<string, ReadRecord[]>): Promise<ReferenceOutput> {
  const out: ReferenceOutput = { sinks: new Map([...plan.sinks.keys()].map((id) => [id, []])), errors: [] };
  const chunks: { stream: string; records: ReadRecord[] }[] = [];
  const CHUNK = 500;
  if (plan.stateful) {
    const all = [...inputs].flatMap(([stream, records]) => records.map((r) => ({ stream, r, ts: eventTime(r) })));
    all.sort((a, b) => a.ts - b.ts);
    for (const { stream, r } of all) {
      const last = chunks[chunks.length - 1];
      if (last && last.stream === stream && last.records.length < CHUNK) last.records.push(r);
      else chunks.push({ stream, records: [r] });
    }
  } else {
    for (const [stream, records] of inputs) {
      const byPartition = new Map<number, ReadRecord[]>();
      for (const r of records) {
        let l = byPartition.get(r.partition);
        if (!l) byPartition.set(r.partition, (l = []));
        l.push(r);
      }
      for (const [, list] of [...byPartition].sort(([a], [b]) => a - b)) {
        for (let i = 0; i < list.length; i += CHUNK) chunks.push({ stream, records: list.slice(i, i + CHUNK) });
      }
    }
  }
  for (const { stream, records } of chunks) {
    const metas: ReferenceMeta[] = records.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset, key: r.key, timestamp: String(r.timestamp) }));
    const res = await plan.processEncoded(stream, records.map((r) => r.value), { metas });
    for (const [sinkId, rows] of res.sinks) {
      const encoded = res.encoded.get(sinkId) ?? rows.map(encodeRecord);
      const sm = (res.sinkMetas.get(sinkId) ?? []) as (ReferenceMeta | undefined)[];
      const list = out.sinks.get(sinkId)!;
      encoded.forEach((value, i) => list.push({ key: sm[i]?.key?.toString("utf8") ?? null, value, meta: sm[i] }));
    }
    for (const e of res.errors) out.errors.push({ nodeId: e.nodeId, reason: e.reason, source: e.meta as ReferenceMeta | undefined });
  }
  return out;
}
