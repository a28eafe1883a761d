import { type Kafka } from "kafkajs";
import { createRequire } from "node:module";

/**
 * Reads a partition from a given offset without joining a consumer group.
 *
 * kafkajs (2.2, frozen) has no manual assign(): its consumer only gets
 * partitions through the group protocol, which costs a JoinGroup round trip and
 * on real clusters `group.initial.rebalance.delay.ms` (3 s by default) — too
 * slow for "read records 100–200" or a preview's first rows in under a second.
 * So this module drives kafkajs's own cluster client directly: the same
 * connection settings (TLS, SASL), metadata handling and record-batch decoding,
 * and its `Batch` filter for control records and aborted transactions. This is
 * the one place that touches kafkajs internals (pinned 2.2.4).
 */
const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Batch = require("kafkajs/src/consumer/batch") as new (topic: string, fetchedOffset: string, partitionData: unknown) => {
  messages: RawMessage[];
  highWatermark: string;
};

interface RawMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[] | undefined>;
}

interface KafkajsBroker {
  fetch(req: unknown): Promise<{ responses: { topicName: string; partitions: { partition: number; errorCode: number; highWatermark: string; lastStableOffset?: string; messages: RawMessage[] }[] }[] }>;
}

interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(opts: { nodeId: string }): Promise<KafkajsBroker>;
}

export interface ReadRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

const READ_COMMITTED = 1;

function clusterFactory(kafka: Kafka): (opts: Record<string, unknown>) => KafkajsCluster {
  const sym = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
  if (!sym) throw new Error("unsupported kafkajs version: partition reader needs kafkajs 2.2");
  return (kafka as unknown as Record<symbol, (o: Record<string, unknown>) => KafkajsCluster>)[sym];
}

function headersOf(h: RawMessage["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = (Array.isArray(v) ? v[v.length - 1] : v).toString();
  return out;
}

export class PartitionReader {
  private constructor(private readonly cluster: KafkajsCluster) {}

  static async open(kafka: Kafka): Promise<PartitionReader> {
    const cluster = clusterFactory(kafka)({ isolationLevel: READ_COMMITTED, allowAutoTopicCreation: false, metadataMaxAge: 60_000 });
    await cluster.connect();
    return new PartitionReader(cluster);
  }

  /**
   * One fetch from `offset`; returns committed records only (read_committed),
   * the partition's high watermark, and where to continue.
   */
  async fetch(topic: string, partition: number, offset: string, opts: { maxBytes?: number; maxWaitMs?: number } = {}) {
    await this.cluster.addTargetTopic(topic);
    await this.cluster.refreshMetadataIfNecessary();
    const leaders = this.cluster.findLeaderForPartitions(topic, [partition]);
    const nodeId = Object.keys(leaders)[0];
    if (nodeId === undefined) throw new Error(`no leader for ${topic}/${partition}`);
    const broker = await this.cluster.findBroker({ nodeId });
    const res = await broker.fetch({
      replicaId: -1,
      isolationLevel: READ_COMMITTED,
      maxWaitTime: opts.maxWaitMs ?? 0,
      minBytes: 1,
      maxBytes: opts.maxBytes ?? 4 * 1024 * 1024,
      topics: [{ topic, partitions: [{ partition, fetchOffset: offset, maxBytes: opts.maxBytes ?? 4 * 1024 * 1024 }] }],
    });
    const pdata = res.responses[0]?.partitions[0];
    if (!pdata) return { records: [] as ReadRecord[], highWatermark: offset, nextOffset: offset };
    if (pdata.errorCode) throw new Error(`fetch ${topic}/${partition}@${offset} failed with Kafka error code ${pdata.errorCode}`);
    const batch = new Batch(topic, offset, pdata);
    const records: ReadRecord[] = batch.messages.map((m) => ({
      topic,
      partition,
      offset: m.offset,
      timestamp: Number(m.timestamp),
      key: m.key,
      value: m.value,
      headers: headersOf(m.headers),
    }));
    // Continue after the last raw message we saw (control records included), so
    // a fetch that returned only a commit marker still makes progress.
    const lastRaw = pdata.messages[pdata.messages.length - 1];
    const nextOffset = lastRaw ? (BigInt(lastRaw.offset) + 1n).toString() : offset;
    return { records, highWatermark: pdata.highWatermark, nextOffset };
  }

  /**
   * At least the newest `limit` committed records of one partition (all of
   * them when it holds fewer), oldest first, and the offset range [from, high)
   * that was read whole. Offsets are not records: every transaction leaves a
   * commit or abort marker, and aborted records take offsets a read_committed
   * reader never sees (every produce through Sluice's API and every
   * exactly_once pipeline writes transactionally). So the read starts `limit`
   * offsets back and goes further back, doubling, until it has `limit` records
   * or reaches `low` (at most 64 × `limit` offsets). An empty partition
   * (high ≤ low) reads nothing.
   */
  async newest(topic: string, partition: number, low: bigint, high: bigint, limit: number): Promise<{ records: ReadRecord[]; from: bigint }> {
    let records: ReadRecord[] = [];
    let from = high;
    for (let span = BigInt(Math.max(1, limit)); from > low; span *= 2n) {
      const start = high - span > low ? high - span : low;
      const part: ReadRecord[] = [];
      let offset = start;
      while (offset < from) {
        const res = await this.fetch(topic, partition, offset.toString(), { maxBytes: 1024 * 1024 });
        part.push(...res.records.filter((r) => BigInt(r.offset) < from));
        const next = BigInt(res.nextOffset);
        if (next <= offset) return { records: [...part, ...records], from }; // no progress: keep what was read whole
        offset = next;
      }
      records = [...part, ...records];
      from = start;
      if (records.length >= limit || span >= 64n * BigInt(Math.max(1, limit))) break;
    }
    return { records, from };
  }

  async close(): Promise<void> {
    await this.cluster.disconnect();
  }
}
