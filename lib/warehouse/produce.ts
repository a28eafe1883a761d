import type { Producer } from "kafkajs";
import type { Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { exceedsDepth } from "@/lib/api/body";
import { limitsEnv } from "@/lib/env/limits";
import { AppError } from "@/lib/errors";
import { explainKafkaConnectionError } from "@/lib/kafka/security";
import { kafkaProducer, withTransactionalProducer } from "@/lib/kafka/shared";
import { recordProblems } from "@/lib/pipeline/record-check";
import type { StreamSchema } from "@/lib/pipeline/schema";
import { requireStreamAccess } from "./access";
import { encodedRecordBytes, largestRecord, RECORD_BATCH_OVERHEAD, topicMaxMessageBytes } from "./record-size";
import { produceInput, type ProduceInput } from "./schemas";

/**
 * Producing records into a stream, all or nothing. Every record is checked
 * before anything is written — against the stream's schema, its topic's
 * largest batch (max.message.bytes), the nesting limit, and for text Kafka
 * would store changed (a key or header that is not well-formed Unicode) — and
 * then the records are written in one Kafka transaction, cut into batches the
 * topic accepts: readers of committed data (every Sluice reader, and any
 * read_committed client) see all of them or none. The REST produce route and
 * `sluice stream produce` both go through here.
 */
export interface ProduceRecord {
  key?: string | null;
  value: unknown;
  headers?: Record<string, string>;
  timestamp?: number;
  partition?: number;
}

/** A record as it will be written: encoded once, its batch size known. */
export interface EncodedRecord {
  key: Buffer | null;
  value: Buffer;
  headers?: Record<string, Buffer>;
  timestamp?: string;
  partition?: number;
  /** Encoded size inside a record batch (record-size.ts). */
  bytes: number;
}

/** What is wrong with a record: the part it is in (`value.geo.country`, `key`, `partition`; empty for the record as a whole). */
export interface RecordProblem {
  field: string;
  message: string;
}

export interface ProduceTarget {
  stream: string;
  topic: string;
  partitions: number;
  schema?: StreamSchema;
  /** The topic's largest record batch (max.message.bytes). */
  maxMessageBytes: number;
  maxDepth: number;
}

/** The stream a principal may produce to (owner team editors), with what checking its records needs. */
export async function produceTarget(principal: Principal, teamSlug: string, name: string): Promise<ProduceTarget> {
  const { team } = await requireTeamRole(principal, teamSlug, "editor");
  const { stream } = await requireStreamAccess(team.id, name, "owner");
  return {
    stream: stream.name,
    topic: stream.topic,
    partitions: stream.partitions,
    schema: stream.schemas[0]?.definition as unknown as StreamSchema | undefined,
    maxMessageBytes: await topicMaxMessageBytes(stream.topic),
    maxDepth: limitsEnv().SLUICE_MAX_JSON_DEPTH,
  };
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string cannot be written as given: Kafka stores UTF-8, and a lone surrogate would become U+FFFD. */
const notWellFormed = (s: string) => (LONE_SURROGATE.test(s) ? "is not well-formed Unicode (it has a lone surrogate, which UTF-8 cannot carry: it would be stored as U+FFFD)" : undefined);

/** Checks one record against the target and encodes it when it has no problem. */
export function prepareRecord(target: ProduceTarget, r: ProduceRecord): { problems: RecordProblem[]; encoded?: EncodedRecord } {
  const problems: RecordProblem[] = [];
  // First: a value nested deeper than the limit is not walked any further (nor stringified, which would overflow the stack).
  if (exceedsDepth(r.value, target.maxDepth)) {
    return { problems: [{ field: "value", message: `nests objects and lists more than ${target.maxDepth} levels deep (the limit, SLUICE_MAX_JSON_DEPTH)` }] };
  }
  if (target.schema) for (const p of recordProblems(target.schema, r.value)) problems.push({ field: p.field ? `value.${p.field}` : "value", message: p.message });
  if (r.key != null) {
    const bad = notWellFormed(r.key);
    if (bad) problems.push({ field: "key", message: bad });
  }
  for (const [k, v] of Object.entries(r.headers ?? {})) {
    const bad = notWellFormed(k) ?? notWellFormed(v);
    if (bad) problems.push({ field: `headers.${k}`, message: bad });
  }
  if (r.partition !== undefined && r.partition >= target.partitions) {
    problems.push({ field: "partition", message: `the stream has ${target.partitions} partitions (0–${target.partitions - 1})` });
  }
  if (problems.length) return { problems };
  const encoded: EncodedRecord = {
    key: r.key != null ? Buffer.from(r.key, "utf8") : null,
    // JSON.stringify escapes lone surrogates (\ud800), so values are stored as sent.
    value: Buffer.from(JSON.stringify(r.value), "utf8"),
    headers: r.headers ? Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Buffer.from(v, "utf8")])) : undefined,
    timestamp: r.timestamp !== undefined ? String(r.timestamp) : undefined,
    partition: r.partition,
    bytes: 0,
  };
  encoded.bytes = encodedRecordBytes(encoded);
  if (RECORD_BATCH_OVERHEAD + encoded.bytes > target.maxMessageBytes) {
    return {
      problems: [{
        field: "",
        message: `too large: ${encoded.bytes.toLocaleString("en")} bytes encoded, and stream "${target.stream}" takes records up to ${largestRecord(target.maxMessageBytes).toLocaleString("en")} bytes (its topic's max.message.bytes, ${target.maxMessageBytes.toLocaleString("en")}, less the ${RECORD_BATCH_OVERHEAD}-byte batch header)`,
      }],
    };
  }
  return { problems, encoded };
}

/** Consecutive runs of records whose batch stays within the topic's limit whichever partitions they land in. */
export function batchesWithin(records: readonly EncodedRecord[], maxMessageBytes: number): EncodedRecord[][] {
  const out: EncodedRecord[][] = [];
  let current: EncodedRecord[] = [];
  let size = RECORD_BATCH_OVERHEAD;
  for (const r of records) {
    if (current.length && size + r.bytes > maxMessageBytes) {
      out.push(current);
      current = [];
      size = RECORD_BATCH_OVERHEAD;
    }
    current.push(r);
    size += r.bytes;
  }
  if (current.length) out.push(current);
  return out;
}

const toMessages = (records: readonly EncodedRecord[]) => records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, partition: r.partition }));

/** Where a write failed: before the commit (nothing written) or in it (outcome unknown). */
export class WriteFailed extends Error {
  constructor(
    readonly stage: "send" | "commit",
    readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "WriteFailed";
  }
}

/**
 * Writes records in one transaction on a lent producer. A failure before the
 * commit aborts it (nothing is visible to read_committed readers); a failure
 * of the commit itself leaves the outcome unknown, and says so.
 */
export async function writeTransaction(
  producer: Producer,
  target: ProduceTarget,
  records: readonly EncodedRecord[],
  options: { signal?: AbortSignal; beforeCommit?: () => void } = {},
): Promise<{ partition: number; baseOffset: string | null }[]> {
  const txn = await producer.transaction();
  const results: { partition: number; baseOffset: string | null }[] = [];
  try {
    for (const batch of batchesWithin(records, target.maxMessageBytes)) {
      // Interrupted (Ctrl-C): abort now rather than leave the transaction to time out, holding back every reader of the stream.
      if (options.signal?.aborted) throw new Error("interrupted");
      const res = await txn.send({ topic: target.topic, acks: -1, messages: toMessages(batch) });
      results.push(...res.map((r) => ({ partition: r.partition, baseOffset: r.baseOffset ?? null })));
    }
    if (options.signal?.aborted) throw new Error("interrupted");
    options.beforeCommit?.();
  } catch (e) {
    await txn.abort().catch(() => undefined);
    throw new WriteFailed("send", e);
  }
  try {
    await txn.commit();
  } catch (e) {
    throw new WriteFailed("commit", e);
  }
  return results;
}

/** A write failure as the user sees it (connection problems keep their own advice, mapped to 503 by the API). */
export function writeFailure(target: ProduceTarget, e: WriteFailed): unknown {
  if (explainKafkaConnectionError(e.cause)) return e.cause;
  return e.stage === "send"
    ? new AppError("unavailable", `The warehouse refused the write to "${target.stream}" (${e.message}); nothing was written. Try again.`)
    : new AppError("unavailable", `The warehouse did not confirm the write to "${target.stream}" (${e.message}): the records may or may not have been written. Read the stream to check before you produce them again.`);
}

/**
 * Writes prepared records all or nothing: one record is one batch (atomic by
 * itself); more go in one transaction.
 */
export async function writeRecords(target: ProduceTarget, records: readonly EncodedRecord[]): Promise<{ partition: number; baseOffset: string | null }[]> {
  try {
    if (records.length === 1) {
      const producer = await kafkaProducer();
      try {
        const res = await producer.send({ topic: target.topic, acks: -1, messages: toMessages(records) });
        return res.map((r) => ({ partition: r.partition, baseOffset: r.baseOffset ?? null }));
      } catch (e) {
        throw new WriteFailed("send", e);
      }
    }
    return await withTransactionalProducer((producer) => writeTransaction(producer, target, records));
  } catch (e) {
    throw e instanceof WriteFailed ? writeFailure(target, e) : e;
  }
}

/** How many record problems an error lists (all are counted). */
const LISTED_PROBLEMS = 100;

/**
 * Produces JSON records to a stream (owner team editors): every record is
 * checked first, and one bad record rejects the whole request with each
 * problem listed (record index, field, message), so nothing is half-written.
 */
export async function produceRecords(principal: Principal, teamSlug: string, name: string, raw: ProduceInput) {
  const input = produceInput.parse(raw);
  const target = await produceTarget(principal, teamSlug, name);
  const problems: { path: (string | number)[]; record: number; field: string; message: string }[] = [];
  let count = 0;
  const encoded: EncodedRecord[] = [];
  input.records.forEach((r, i) => {
    const checked = prepareRecord(target, r);
    for (const p of checked.problems) {
      count++;
      if (problems.length < LISTED_PROBLEMS) problems.push({ path: ["records", i, ...(p.field ? p.field.split(".") : [])], record: i, field: p.field, message: `record ${i}${p.field ? `, ${p.field}` : ""}: ${p.message}` });
    }
    if (checked.encoded) encoded.push(checked.encoded);
  });
  if (count) throw new AppError("invalid_input", `${count} problem(s) with the records; nothing was written.${count > problems.length ? ` The first ${problems.length} are listed.` : ""}`, problems);
  const partitions = await writeRecords(target, encoded);
  return { written: encoded.length, partitions };
}
