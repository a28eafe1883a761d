import { gunzipSync } from "node:zlib";
import { crc32c } from "@node-rs/crc32";
import { Reader } from "./reader";
import { Writer } from "./writer";

/**
 * Record batch v2 ("magic 2") layout. The broker stores batches byte for byte as the
 * producer sent them; only the fields outside the CRC (base offset, partition leader
 * epoch) are rewritten, so offsets can be assigned without recomputing checksums.
 */
export const BATCH = {
  BASE_OFFSET: 0,
  LENGTH: 8,
  LEADER_EPOCH: 12,
  MAGIC: 16,
  CRC: 17,
  ATTRIBUTES: 21,
  LAST_OFFSET_DELTA: 23,
  FIRST_TIMESTAMP: 27,
  MAX_TIMESTAMP: 35,
  PRODUCER_ID: 43,
  PRODUCER_EPOCH: 51,
  BASE_SEQUENCE: 53,
  RECORD_COUNT: 57,
  HEADER_SIZE: 61,
  /** Bytes before batchLength's coverage starts (baseOffset + batchLength). */
  LOG_OVERHEAD: 12,
} as const;

export const Compression = { NONE: 0, GZIP: 1, SNAPPY: 2, LZ4: 3, ZSTD: 4 } as const;
const ATTR_COMPRESSION_MASK = 0x07;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;

export interface BatchHeader {
  baseOffset: number;
  /** Total bytes of the batch including the 12-byte log overhead. */
  size: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  firstTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export function compressionOf(h: BatchHeader): number {
  return h.attributes & ATTR_COMPRESSION_MASK;
}
export function isTransactional(h: BatchHeader): boolean {
  return (h.attributes & ATTR_TRANSACTIONAL) !== 0;
}
export function isControl(h: BatchHeader): boolean {
  return (h.attributes & ATTR_CONTROL) !== 0;
}
export function lastOffsetOf(h: BatchHeader): number {
  return h.baseOffset + h.lastOffsetDelta;
}

/** Reads the fixed header at `at`; the caller has checked at least HEADER_SIZE bytes are there. */
export function readBatchHeader(buf: Buffer, at = 0): BatchHeader {
  return {
    baseOffset: Number(buf.readBigInt64BE(at + BATCH.BASE_OFFSET)),
    size: buf.readInt32BE(at + BATCH.LENGTH) + BATCH.LOG_OVERHEAD,
    magic: buf.readInt8(at + BATCH.MAGIC),
    crc: buf.readUInt32BE(at + BATCH.CRC),
    attributes: buf.readInt16BE(at + BATCH.ATTRIBUTES),
    lastOffsetDelta: buf.readInt32BE(at + BATCH.LAST_OFFSET_DELTA),
    firstTimestamp: Number(buf.readBigInt64BE(at + BATCH.FIRST_TIMESTAMP)),
    maxTimestamp: Number(buf.readBigInt64BE(at + BATCH.MAX_TIMESTAMP)),
    producerId: Number(buf.readBigInt64BE(at + BATCH.PRODUCER_ID)),
    producerEpoch: buf.readInt16BE(at + BATCH.PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(at + BATCH.BASE_SEQUENCE),
    recordCount: buf.readInt32BE(at + BATCH.RECORD_COUNT),
  };
}

export function computeCrc(batch: Buffer): number {
  return crc32c(batch.subarray(BATCH.ATTRIBUTES)) >>> 0;
}

export type BatchProblem = "too-short" | "bad-magic" | "bad-length" | "bad-crc" | "bad-count";

/** Validates one complete batch buffer (exactly one batch); returns the problem or null. */
export function validateBatch(batch: Buffer): BatchProblem | null {
  if (batch.length < BATCH.HEADER_SIZE) return "too-short";
  if (batch.readInt8(BATCH.MAGIC) !== 2) return "bad-magic";
  if (batch.readInt32BE(BATCH.LENGTH) + BATCH.LOG_OVERHEAD !== batch.length) return "bad-length";
  const count = batch.readInt32BE(BATCH.RECORD_COUNT);
  const lastDelta = batch.readInt32BE(BATCH.LAST_OFFSET_DELTA);
  if (count < 0 || lastDelta < 0 || lastDelta + 1 < count) return "bad-count";
  if (computeCrc(batch) !== batch.readUInt32BE(BATCH.CRC)) return "bad-crc";
  return null;
}

/**
 * Splits a produce request's record set into batches. Kafka clients may pack several
 * batches for one partition into a record set; a trailing partial batch is malformed.
 */
export function splitBatches(recordSet: Buffer): Buffer[] | BatchProblem {
  const out: Buffer[] = [];
  let at = 0;
  while (at < recordSet.length) {
    if (recordSet.length - at < BATCH.HEADER_SIZE) return "too-short";
    if (recordSet.readInt8(at + BATCH.MAGIC) !== 2) return "bad-magic";
    const size = recordSet.readInt32BE(at + BATCH.LENGTH) + BATCH.LOG_OVERHEAD;
    if (size < BATCH.HEADER_SIZE || at + size > recordSet.length) return "bad-length";
    out.push(recordSet.subarray(at, at + size));
    at += size;
  }
  return out;
}

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}
export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** Decodes the records of an uncompressed records section (compaction, internal topics). */
export function decodeRecords(h: BatchHeader, records: Buffer): DecodedRecord[] {
  const r = new Reader(records);
  const out: DecodedRecord[] = [];
  for (let i = 0; i < h.recordCount; i++) {
    const len = r.varint();
    const end = r.pos + len;
    r.int8(); // record attributes, unused by the protocol
    const tsDelta = r.varlong();
    const offDelta = r.varint();
    const key = r.varBytes();
    const value = r.varBytes();
    const headerCount = r.varint();
    const headers: RecordHeader[] = [];
    for (let j = 0; j < headerCount; j++) {
      const hk = r.varBytes();
      headers.push({ key: hk ? hk.toString("utf8") : "", value: r.varBytes() });
    }
    r.pos = end;
    out.push({ offset: h.baseOffset + offDelta, timestamp: h.firstTimestamp + tsDelta, key, value, headers });
  }
  return out;
}

/** The records of a whole stored batch (header + records), gunzipped when needed. */
export function recordsOfBatch(h: BatchHeader, bytes: Buffer): DecodedRecord[] {
  let body = bytes.subarray(BATCH.HEADER_SIZE);
  const c = compressionOf(h);
  if (c === Compression.GZIP) body = gunzipSync(body);
  else if (c !== Compression.NONE) throw new Error(`cannot decode compression type ${c}`);
  return decodeRecords(h, body);
}

export interface NewRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers?: RecordHeader[];
  /** Offset delta inside the batch; defaults to the record's index (compaction keeps gaps). */
  offsetDelta?: number;
}

export interface BatchSpec {
  baseOffset: number;
  records: NewRecord[];
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  control?: boolean;
  /** Keeps the original span when compaction drops records from a batch. */
  lastOffsetDelta?: number;
}

/** Builds an uncompressed v2 batch with a valid CRC (control markers, internal topics, compaction). */
export function buildBatch(spec: BatchSpec): Buffer {
  const w = new Writer(128);
  const recs = spec.records;
  const firstTs = recs.length ? Math.min(...recs.map((r) => r.timestamp)) : Date.now();
  const maxTs = recs.length ? Math.max(...recs.map((r) => r.timestamp)) : firstTs;
  w.int64(spec.baseOffset);
  w.int32(0); // batch length, patched below once the records are encoded
  w.int32(0); // partition leader epoch
  w.int8(2);
  const crcAt = w.pos;
  w.uint32(0);
  let attributes = 0;
  if (spec.transactional) attributes |= ATTR_TRANSACTIONAL;
  if (spec.control) attributes |= ATTR_CONTROL;
  w.int16(attributes);
  const lastDelta = spec.lastOffsetDelta ?? Math.max(0, ...recs.map((r, i) => r.offsetDelta ?? i));
  w.int32(lastDelta);
  w.int64(firstTs);
  w.int64(maxTs);
  w.int64(spec.producerId ?? -1);
  w.int16(spec.producerEpoch ?? -1);
  w.int32(spec.baseSequence ?? -1);
  w.int32(recs.length);
  recs.forEach((rec, i) => {
    const body = new Writer(64);
    body.int8(0);
    body.varlong(rec.timestamp - firstTs);
    body.varint(rec.offsetDelta ?? i);
    body.varBytes(rec.key);
    body.varBytes(rec.value);
    const headers = rec.headers ?? [];
    body.varint(headers.length);
    for (const h of headers) {
      body.varBytes(Buffer.from(h.key));
      body.varBytes(h.value);
    }
    const bytes = body.view();
    w.varint(bytes.length);
    w.raw(bytes);
  });
  const buf = Buffer.from(w.view());
  buf.writeInt32BE(buf.length - BATCH.LOG_OVERHEAD, BATCH.LENGTH);
  buf.writeUInt32BE(computeCrc(buf), crcAt);
  return buf;
}

export const ControlType = { ABORT: 0, COMMIT: 1 } as const;

/** Transaction marker: a control batch whose single record key is (version 0, type). */
export function buildControlBatch(
  baseOffset: number,
  producerId: number,
  producerEpoch: number,
  type: (typeof ControlType)[keyof typeof ControlType],
  coordinatorEpoch = 0,
): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return buildBatch({
    baseOffset,
    producerId,
    producerEpoch,
    transactional: true,
    control: true,
    records: [{ key, value, timestamp: Date.now() }],
  });
}

/** Reads the control type (ABORT/COMMIT) of a control batch's first record. */
export function controlTypeOf(batch: Buffer): number {
  const h = readBatchHeader(batch);
  const [rec] = decodeRecords(h, batch.subarray(BATCH.HEADER_SIZE));
  return rec?.key && rec.key.length >= 4 ? rec.key.readInt16BE(2) : -1;
}
