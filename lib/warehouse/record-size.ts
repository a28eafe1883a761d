import type { ConfigResourceTypes } from "kafkajs";
import { kafkaAdmin } from "@/lib/kafka/shared";

/** ConfigResourceTypes.TOPIC: kafkajs is CommonJS and Node's ESM loader cannot see that named export. */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

/**
 * How big a record is on the wire, and how big a stream takes them.
 *
 * Kafka refuses a record batch larger than the topic's `max.message.bytes`
 * (MESSAGE_TOO_LARGE), and kafkajs answers that only after retries, with its
 * own log lines. Sluice checks each record against the limit before it writes
 * anything, and cuts its writes into batches under it.
 */

/** Kafka's default `max.message.bytes` (1 MiB + batch framing), used when the cluster does not say. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** The fixed part of a v2 record batch (offset, length, epoch, magic, CRC, attributes, deltas, timestamps, producer fields, count). */
export const RECORD_BATCH_OVERHEAD = 61;

const varintSize = (n: number): number => {
  // zigzag, then 7 bits per byte
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  let size = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
};

export interface RecordBytes {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer>;
}

/**
 * Encoded size of one record inside a v2 batch, with the largest timestamp
 * and offset deltas a batch can hold, so that the sum over records bounds any
 * batch made of them whatever partition and order they end up in.
 */
export function encodedRecordBytes(r: RecordBytes): number {
  const headers = Object.entries(r.headers ?? {});
  let body = 1 /* attributes */ + 10 /* timestamp delta, varlong */ + 5 /* offset delta */;
  body += r.key ? varintSize(r.key.length) + r.key.length : 1;
  body += r.value ? varintSize(r.value.length) + r.value.length : 1;
  body += varintSize(headers.length);
  for (const [k, v] of headers) {
    const kb = Buffer.byteLength(k, "utf8");
    body += varintSize(kb) + kb + varintSize(v.length) + v.length;
  }
  return varintSize(body) + body;
}

/** The largest value a record can have in a stream whose batches may be `maxMessageBytes`, for messages that name the limit. */
export const largestRecord = (maxMessageBytes: number) => maxMessageBytes - RECORD_BATCH_OVERHEAD;

const cache = new Map<string, { bytes: number; at: number }>();
const CACHE_MS = 60_000;

/**
 * The topic's `max.message.bytes` as the cluster reports it (DescribeConfigs:
 * the topic's own setting or the broker's default), cached for a minute. A
 * cluster that does not answer (no DescribeConfigs ACL) gets Kafka's default.
 */
export async function topicMaxMessageBytes(topic: string): Promise<number> {
  const hit = cache.get(topic);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.bytes;
  let bytes = KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
  try {
    const admin = await kafkaAdmin();
    const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ["max.message.bytes"] }] });
    const entry = res.resources[0]?.configEntries.find((e) => e.configName === "max.message.bytes");
    const n = Number(entry?.configValue);
    if (Number.isInteger(n) && n > RECORD_BATCH_OVERHEAD) bytes = n;
  } catch {
    // Keep Kafka's default: the broker still refuses what is too large, and the write reports it.
  }
  cache.set(topic, { bytes, at: Date.now() });
  return bytes;
}
