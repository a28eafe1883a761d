import type { Broker } from "../broker";
import { Fetch, type FetchPartitionResult, type FetchResponse } from "../protocol/apis/fetch";
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, ListOffsets } from "../protocol/apis/list-offsets";
import { Metadata, type TopicMetadata } from "../protocol/apis/metadata";
import { Produce, type ProducePartitionResult } from "../protocol/apis/produce";
import { ErrorCode, KafkaError } from "../protocol/errors";
import { Compression, compressionOf, readBatchHeader, splitBatches, validateBatch } from "../protocol/record-batch";
import type { TopicState } from "../storage/log-manager";
import { type Handler, handler } from "./handler";

const READ_COMMITTED = 1;

export function dataHandlers(b: Broker): Handler[] {
  const userTopic = (name: string): TopicState | undefined => {
    const t = b.logs.get(name);
    return t && !t.internal ? t : undefined;
  };

  const metadata = handler(Metadata, async (req) => {
    const names = req.topics ?? [...b.logs.topics.values()].filter((t) => !t.internal).map((t) => t.name);
    const topics: TopicMetadata[] = [];
    for (const name of names) {
      let t = userTopic(name);
      if (!t && req.topics && req.allowAutoTopicCreation && b.config.autoCreateTopics) {
        t = await b.autoCreate(name);
      }
      if (!t) {
        topics.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, isInternal: false, partitions: [] });
        continue;
      }
      topics.push({
        errorCode: ErrorCode.NONE,
        name,
        isInternal: false,
        partitions: t.partitions.map((_, index) => ({
          errorCode: ErrorCode.NONE,
          index,
          leader: b.config.nodeId,
          replicas: [b.config.nodeId],
        })),
      });
    }
    return {
      brokers: [{ nodeId: b.config.nodeId, host: b.advertisedHost, port: b.port }],
      clusterId: b.clusterId,
      controllerId: b.config.nodeId,
      topics,
    };
  });

  const produce = handler(Produce, async (req) => {
    const waits: Promise<void>[] = [];
    const topics: { name: string; partitions: ProducePartitionResult[] }[] = [];
    const validAcks = req.acks === 0 || req.acks === 1 || req.acks === -1;
    for (const tp of req.topics) {
      let t = userTopic(tp.name);
      if (!t && b.config.autoCreateTopics && !b.logs.get(tp.name)) t = await b.autoCreate(tp.name);
      const partitions: ProducePartitionResult[] = [];
      for (const p of tp.partitions) {
        const log = t?.partitions[p.index];
        const result = (errorCode: number, baseOffset = -1): ProducePartitionResult => ({
          index: p.index,
          errorCode,
          baseOffset,
          logStartOffset: log?.logStartOffset ?? -1,
        });
        if (!validAcks) {
          partitions.push(result(ErrorCode.INVALID_REQUIRED_ACKS));
          continue;
        }
        if (!log) {
          partitions.push(result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
          continue;
        }
        const batches = p.records && p.records.length > 0 ? splitBatches(p.records) : "too-short";
        if (typeof batches === "string") {
          b.log.warn({ topic: tp.name, partition: p.index, problem: batches }, "rejected malformed record set");
          partitions.push(result(ErrorCode.CORRUPT_MESSAGE));
          continue;
        }
        // Validate every batch before appending any, so a partition's write is all or nothing.
        let error: number = ErrorCode.NONE;
        for (const batch of batches) {
          const problem = validateBatch(batch);
          if (problem) {
            b.log.warn({ topic: tp.name, partition: p.index, problem }, "rejected corrupt batch");
            error = ErrorCode.CORRUPT_MESSAGE;
            break;
          }
          const c = compressionOf(readBatchHeader(batch));
          if (c !== Compression.NONE && c !== Compression.GZIP) {
            error = ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
            break;
          }
          if (batch.length > log.config.num("max.message.bytes")) {
            error = ErrorCode.MESSAGE_TOO_LARGE;
            break;
          }
        }
        if (error !== ErrorCode.NONE) {
          partitions.push(result(error));
          continue;
        }
        let first = -1;
        let end = 0;
        for (const batch of batches) {
          const r = log.appendProduced(batch);
          if (r.errorCode !== ErrorCode.NONE) {
            b.log.debug({ topic: tp.name, partition: p.index, code: r.errorCode, msg: r.message }, "produce refused");
            error = r.errorCode;
            break;
          }
          if (first < 0) first = r.baseOffset;
          end = Math.max(end, r.endOffset);
        }
        if (end > 0) waits.push(log.waitDurable(end));
        partitions.push(result(error, error === ErrorCode.NONE ? first : -1));
      }
      topics.push({ name: tp.name, partitions });
    }
    if (req.acks === 0) return null;
    await Promise.all(waits);
    return { topics };
  });

  const fetch = handler(Fetch, async (req) => {
    const readCommitted = req.isolationLevel === READ_COMMITTED;
    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    for (;;) {
      let wake: () => void = () => undefined;
      const woke = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const unsubscribe: (() => void)[] = [];
      let budget = req.maxBytes > 0 ? req.maxBytes : 52_428_800;
      let total = 0;
      let errored = false;
      const topics: FetchResponse["topics"] = [];
      for (const tp of req.topics) {
        const t = userTopic(tp.name);
        const partitions: FetchPartitionResult[] = [];
        for (const p of tp.partitions) {
          const log = t?.partitions[p.index];
          if (!log) {
            errored = true;
            partitions.push({
              index: p.index,
              errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              highWatermark: -1,
              lastStableOffset: -1,
              logStartOffset: -1,
              aborted: null,
              records: [],
            });
            continue;
          }
          unsubscribe.push(log.subscribe(wake));
          // The first partition with data always gets one whole batch, even past the limits (KIP-74).
          const limit = Math.min(p.partitionMaxBytes, budget);
          const r = await log.read(p.fetchOffset, total === 0 ? Math.max(1, limit) : limit, readCommitted);
          if (r.errorCode !== ErrorCode.NONE) errored = true;
          total += r.bytes;
          budget -= r.bytes;
          partitions.push({
            index: p.index,
            errorCode: r.errorCode,
            highWatermark: r.highWatermark,
            lastStableOffset: r.lastStableOffset,
            logStartOffset: r.logStartOffset,
            aborted: r.aborted,
            records: r.records,
          });
        }
        topics.push({ name: tp.name, partitions });
      }
      const remaining = deadline - Date.now();
      if (total >= Math.max(1, req.minBytes) || errored || remaining <= 0 || b.closing) {
        for (const u of unsubscribe) u();
        return { errorCode: ErrorCode.NONE, topics };
      }
      // Long poll: sleep until any fetched partition's readable end moves, or max wait passes.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([woke, new Promise<void>((r) => (timer = setTimeout(r, remaining))), b.closed]);
      clearTimeout(timer);
      for (const u of unsubscribe) u();
    }
  });

  const listOffsets = handler(ListOffsets, async (req) => ({
    topics: await Promise.all(
      req.topics.map(async (tp) => {
        const t = userTopic(tp.name);
        return {
          name: tp.name,
          partitions: await Promise.all(
            tp.partitions.map(async (p) => {
              const log = t?.partitions[p.index];
              if (!log) return { index: p.index, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, timestamp: -1, offset: -1 };
              if (p.timestamp === LATEST_TIMESTAMP) {
                const offset = req.isolationLevel === READ_COMMITTED ? log.lastStableOffset : log.highWatermark;
                return { index: p.index, errorCode: ErrorCode.NONE, timestamp: -1, offset };
              }
              if (p.timestamp === EARLIEST_TIMESTAMP) {
                return { index: p.index, errorCode: ErrorCode.NONE, timestamp: -1, offset: log.logStartOffset };
              }
              const found = await log.offsetForTimestamp(p.timestamp);
              return { index: p.index, errorCode: ErrorCode.NONE, ...found };
            }),
          ),
        };
      }),
    ),
  }));

  return [metadata, produce, fetch, listOffsets];
}

export function assertKnown(b: Broker, topic: string): TopicState {
  const t = b.logs.get(topic);
  if (!t || t.internal) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${topic}`);
  return t;
}
