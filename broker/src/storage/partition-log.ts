import fs from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { ErrorCode } from "../protocol/errors";
import {
  BATCH,
  type BatchHeader,
  ControlType,
  buildControlBatch,
  controlTypeOf,
  isControl,
  readBatchHeader,
  recordsOfBatch,
} from "../protocol/record-batch";
import { ProducerStateTable } from "../txn/producer-state";
import { mkdirPrivate } from "./data-dir";
import type { Durability, Flushable } from "./durability";
import { Segment, fsyncDir, readAt, scanSegment, writeFileDurable } from "./segment";
import type { TopicConfig } from "./topic-config";

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
}

export interface ReadResult {
  errorCode: ErrorCode;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  records: Buffer[];
  bytes: number;
  aborted: { producerId: number; firstOffset: number }[] | null;
}

export interface AppendResult {
  errorCode: ErrorCode;
  baseOffset: number;
  /** Offset the acknowledgement must wait for (exclusive end of the write). */
  endOffset: number;
  message?: string;
}

const START_OFFSET_FILE = "log-start-offset";
/** Old segment files stay open this long after removal so in-flight fetches finish reading them. */
const DEFERRED_CLOSE_MS = 30_000;

/**
 * One partition's log: segments on disk, the producer state and transaction index derived
 * from them, the high watermark (durable end) and the last stable offset.
 */
export class PartitionLog implements Flushable {
  segments: Segment[] = [];
  logStartOffset = 0;
  leo = 0;
  highWatermark = 0;
  readonly producers = new ProducerStateTable();
  aborted: AbortedTxn[] = [];
  /** Markers appended but not yet durable: their transactions still hold the LSO back. */
  private pendingMarkers: { markerOffset: number; firstOffset: number }[] = [];
  private durableWaiters: { offset: number; resolve: () => void }[] = [];
  private readonly listeners = new Set<() => void>();
  closed = false;
  /** Offset up to which the log has been compacted (compact topics). */
  cleanedUpTo = 0;
  /** Tombstones kept for delete.retention.ms: compaction must run again to remove them. */
  tombstonesPending = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly dir: string,
    public config: TopicConfig,
    private readonly durability: Durability,
    private readonly log: Logger,
  ) {}

  get activeFd(): number {
    return this.active.fd;
  }
  get logEndOffset(): number {
    return this.leo;
  }
  get active(): Segment {
    return this.segments[this.segments.length - 1];
  }
  get sizeBytes(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }

  static async open(
    dir: string,
    topic: string,
    partition: number,
    config: TopicConfig,
    durability: Durability,
    log: Logger,
  ): Promise<PartitionLog> {
    if (!fs.existsSync(dir)) {
      mkdirPrivate(dir);
      fsyncDir(path.dirname(dir));
    }
    const p = new PartitionLog(topic, partition, dir, config, durability, log);
    await p.recover();
    return p;
  }

  /**
   * Rebuilds indexes, producer state and the aborted-transaction index from the segments,
   * and truncates the last segment at the first torn or corrupt batch (an interrupted
   * write after a crash). Acknowledged data was fsync'd, so it is before that point.
   */
  private async recover(): Promise<void> {
    const interval = this.config.num("index.interval.bytes");
    try {
      this.logStartOffset = Number(fs.readFileSync(path.join(this.dir, START_OFFSET_FILE), "utf8")) || 0;
    } catch {
      this.logStartOffset = 0;
    }
    for (const f of fs.readdirSync(this.dir)) {
      if (f.endsWith(".tmp") || f.endsWith(".cleaned")) fs.rmSync(path.join(this.dir, f), { force: true });
    }
    const bases = fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith(".log"))
      .map((f) => Number(f.slice(0, -4)))
      .sort((a, b) => a - b);
    if (bases.length === 0) bases.push(this.logStartOffset);
    let expected = bases[0];
    for (let i = 0; i < bases.length; i++) {
      const seg = Segment.create(this.dir, bases[i], interval);
      const last = i === bases.length - 1;
      const scan = scanSegment(seg.fd, seg.size, last);
      let end = 0;
      for (;;) {
        const step = await scan.next();
        if (step.done) {
          end = step.value;
          break;
        }
        const { header: h, bytes, position } = step.value;
        if (last && h.baseOffset < expected) {
          end = position;
          break;
        }
        seg.track(position, h);
        this.applyToState(h, bytes);
        expected = h.baseOffset + h.lastOffsetDelta + 1;
      }
      if (last && end < seg.size) {
        this.log.warn({ topic: this.topic, partition: this.partition, validBytes: end, fileBytes: seg.size }, "truncating torn log tail");
        seg.truncate(end);
      }
      this.segments.push(seg);
    }
    this.leo = Math.max(this.active.nextOffset, this.logStartOffset);
    fs.fsyncSync(this.active.fd);
    this.highWatermark = this.leo;
    this.logStartOffset = Math.max(this.logStartOffset, this.segments[0].baseOffset);
  }

  private applyToState(h: BatchHeader, bytes: Buffer): void {
    if (isControl(h)) {
      const first = this.producers.onMarker(h.producerId, h.producerEpoch);
      if (controlTypeOf(bytes) === ControlType.ABORT && first !== null) {
        this.aborted.push({ producerId: h.producerId, firstOffset: first, lastOffset: h.baseOffset });
      }
    } else {
      this.producers.onData(h, h.baseOffset);
    }
  }

  get lastStableOffset(): number {
    let lso = this.highWatermark;
    const open = this.producers.firstOpenTxnOffset();
    if (open !== null && open < lso) lso = open;
    for (const m of this.pendingMarkers) if (m.firstOffset < lso) lso = m.firstOffset;
    return lso;
  }

  private maybeRoll(incoming: number): void {
    const seg = this.active;
    if (seg.size === 0) return;
    const tooBig = seg.size + incoming > this.config.num("segment.bytes");
    const tooOld = Date.now() - seg.createdAt > this.config.num("segment.ms");
    if (!tooBig && !tooOld) return;
    this.roll();
  }

  roll(): void {
    const seg = this.active;
    // The rolled segment is synced now so recovery only ever has to repair the last one.
    fs.fsyncSync(seg.fd);
    seg.writeIndexes();
    this.segments.push(Segment.create(this.dir, this.leo, this.config.num("index.interval.bytes")));
  }

  /** Appends one validated batch, assigning its offsets; synchronous so offsets follow request order. */
  private appendRaw(batch: Buffer, h: BatchHeader): number {
    this.maybeRoll(batch.length);
    const base = this.leo;
    batch.writeBigInt64BE(BigInt(base), BATCH.BASE_OFFSET);
    batch.writeInt32BE(0, BATCH.LEADER_EPOCH);
    h.baseOffset = base;
    this.active.append(batch, h);
    this.leo = base + h.lastOffsetDelta + 1;
    this.durability.markDirty(this);
    return base;
  }

  /** Producer path: idempotence/fencing checks, then append. */
  appendProduced(batch: Buffer): AppendResult {
    const h = readBatchHeader(batch);
    if (isControl(h)) {
      return { errorCode: ErrorCode.INVALID_REQUEST, baseOffset: -1, endOffset: 0, message: "clients may not write control batches" };
    }
    const check = this.producers.check(h);
    if (check.kind === "error") return { errorCode: check.code, baseOffset: -1, endOffset: 0, message: check.message };
    if (check.kind === "duplicate") {
      return { errorCode: ErrorCode.NONE, baseOffset: check.baseOffset, endOffset: check.baseOffset + h.lastOffsetDelta + 1 };
    }
    const base = this.appendRaw(batch, h);
    this.producers.onData(h, base);
    return { errorCode: ErrorCode.NONE, baseOffset: base, endOffset: this.leo };
  }

  /** Internal writers (offsets, transaction state) append ready-made batches. */
  appendInternal(batch: Buffer): number {
    const h = readBatchHeader(batch);
    const base = this.appendRaw(batch, h);
    return base;
  }

  /** Writes a COMMIT/ABORT marker for `producerId`'s open transaction on this partition. */
  appendMarker(producerId: number, epoch: number, type: number): number {
    const batch = buildControlBatch(0, producerId, epoch, type as 0 | 1);
    const h = readBatchHeader(batch);
    const offset = this.appendRaw(batch, h);
    const first = this.producers.onMarker(producerId, epoch);
    if (first !== null) {
      this.pendingMarkers.push({ markerOffset: offset, firstOffset: first });
      if (type === ControlType.ABORT) this.aborted.push({ producerId, firstOffset: first, lastOffset: offset });
    }
    return offset;
  }

  onDurable(offset: number): void {
    if (offset <= this.highWatermark) return;
    this.highWatermark = offset;
    this.pendingMarkers = this.pendingMarkers.filter((m) => m.markerOffset >= offset);
    const ready = this.durableWaiters.filter((w) => w.offset <= offset);
    this.durableWaiters = this.durableWaiters.filter((w) => w.offset > offset);
    for (const w of ready) w.resolve();
    this.notify();
  }

  waitDurable(offset: number): Promise<void> {
    if (offset <= this.highWatermark) return Promise.resolve();
    return new Promise((resolve) => this.durableWaiters.push({ offset, resolve }));
  }

  /** Fetch long-polls subscribe to "the readable end moved". */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  private notify(): void {
    for (const fn of [...this.listeners]) fn();
  }

  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.segments[mid].baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /**
   * Serves whole batches straight from the segment files, from the batch containing
   * `offset` up to `maxBytes` (at least one batch if maxBytes > 0, as Kafka does since KIP-74), never past
   * the high watermark, or the last stable offset for read_committed.
   */
  async read(offset: number, maxBytes: number, readCommitted: boolean): Promise<ReadResult> {
    const hw = this.highWatermark;
    const lso = this.lastStableOffset;
    const base: ReadResult = {
      errorCode: ErrorCode.NONE,
      highWatermark: hw,
      lastStableOffset: lso,
      logStartOffset: this.logStartOffset,
      records: [],
      bytes: 0,
      aborted: readCommitted ? [] : null,
    };
    if (offset < this.logStartOffset || offset > hw) return { ...base, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
    const upper = readCommitted ? lso : hw;
    if (offset >= upper || maxBytes <= 0) return base;
    const segments = this.segments;
    let total = 0;
    let lastOffset = offset;
    let done = false;
    for (let si = this.segmentIndexFor(offset); si < segments.length && !done; si++) {
      const seg = segments[si];
      let pos = seg.lookup(offset);
      const end = seg.size;
      let want = 0;
      while (pos < end && !done) {
        const len = Math.min(end - pos, Math.max(maxBytes - total + 8192, 65536, want));
        const buf = Buffer.allocUnsafe(len);
        const n = await readAt(seg.fd, buf, pos);
        let rel = 0;
        while (rel + BATCH.HEADER_SIZE <= n) {
          const size = buf.readInt32BE(rel + BATCH.LENGTH) + BATCH.LOG_OVERHEAD;
          const batchBase = Number(buf.readBigInt64BE(rel));
          if (batchBase >= upper) {
            done = true;
            break;
          }
          if (rel + size > n) break;
          const batchLast = batchBase + buf.readInt32BE(rel + BATCH.LAST_OFFSET_DELTA);
          if (batchLast >= offset) {
            if (total > 0 && total + size > maxBytes) {
              done = true;
              break;
            }
            base.records.push(buf.subarray(rel, rel + size));
            total += size;
            lastOffset = batchLast;
          }
          rel += size;
        }
        if (n === 0) break;
        if (rel === 0 && !done) {
          // One batch bigger than the read: read again with room for all of it.
          want = n >= BATCH.LOG_OVERHEAD ? buf.readInt32BE(BATCH.LENGTH) + BATCH.LOG_OVERHEAD : 65536;
          if (pos + want > end) break;
          continue;
        }
        pos += rel;
        if (total >= maxBytes) done = true;
      }
    }
    base.bytes = total;
    if (readCommitted && total > 0) {
      base.aborted = this.aborted
        .filter((a) => a.lastOffset >= offset && a.firstOffset <= lastOffset)
        .map((a) => ({ producerId: a.producerId, firstOffset: a.firstOffset }));
    }
    return base;
  }

  /**
   * ListOffsets by timestamp, as Kafka answers it: the earliest offset whose
   * record timestamp is >= `ts`. The time index narrows the scan to a batch;
   * the batch's records are then read to find the exact record.
   */
  async offsetForTimestamp(ts: number): Promise<{ offset: number; timestamp: number }> {
    for (const seg of this.segments) {
      if (seg.maxTimestamp < ts) continue;
      const from = seg.lookupTime(ts) ?? seg.baseOffset;
      const scan = scanSegment(seg.fd, seg.size, false, seg.lookup(from));
      for await (const b of scan) {
        if (b.header.maxTimestamp < ts || b.header.baseOffset + b.header.lastOffsetDelta < this.logStartOffset || isControl(b.header)) continue;
        let records: { offset: number; timestamp: number }[];
        try {
          records = recordsOfBatch(b.header, b.bytes);
        } catch {
          // A compression we cannot read: batch granularity is the best we can do.
          return { offset: Math.max(b.header.baseOffset, this.logStartOffset), timestamp: b.header.maxTimestamp };
        }
        const hit = records.find((r) => r.timestamp >= ts && r.offset >= this.logStartOffset);
        if (hit) return { offset: hit.offset, timestamp: hit.timestamp };
      }
    }
    return { offset: -1, timestamp: -1 };
  }

  /** DeleteRecords: moves the log start forward; whole segments below it are removed. */
  deleteRecordsBefore(offset: number): number {
    const target = offset === -1 ? this.highWatermark : offset;
    if (target > this.logStartOffset) {
      this.logStartOffset = target;
      this.persistStartOffset();
      this.dropSegmentsBelow(target);
    }
    return this.logStartOffset;
  }

  private persistStartOffset(): void {
    writeFileDurable(path.join(this.dir, START_OFFSET_FILE), String(this.logStartOffset));
  }

  /** Removes segments entirely below `offset` (never the active one). */
  private dropSegmentsBelow(offset: number): void {
    while (this.segments.length > 1 && this.segments[1].baseOffset <= offset) {
      this.removeSegment(this.segments.shift()!);
    }
    this.aborted = this.aborted.filter((a) => a.lastOffset >= this.logStartOffset);
  }

  removeSegment(seg: Segment): void {
    for (const p of [seg.logPath, seg.indexPath, seg.timeIndexPath]) fs.rmSync(p, { force: true });
    setTimeout(() => {
      try {
        seg.close();
      } catch {
        /* already closed on shutdown */
      }
    }, DEFERRED_CLOSE_MS).unref();
  }

  /** Time and size retention for cleanup.policy=delete; returns the number of segments removed. */
  enforceRetention(now = Date.now()): number {
    if (!this.config.deleteByRetention) return 0;
    const retentionMs = this.config.num("retention.ms");
    const retentionBytes = this.config.num("retention.bytes");
    let removed = 0;
    let total = this.sizeBytes;
    while (this.segments.length > 1) {
      const seg = this.segments[0];
      const next = this.segments[1];
      // Only data already below the high watermark may go: consumers must have had a chance.
      if (next.baseOffset > this.highWatermark) break;
      const expired = retentionMs >= 0 && seg.maxTimestamp >= 0 && seg.maxTimestamp < now - retentionMs;
      const oversize = retentionBytes >= 0 && total - seg.size >= retentionBytes;
      if (!expired && !oversize) break;
      total -= seg.size;
      this.segments.shift();
      this.removeSegment(seg);
      this.logStartOffset = Math.max(this.logStartOffset, next.baseOffset);
      removed++;
    }
    if (removed > 0) {
      this.persistStartOffset();
      this.aborted = this.aborted.filter((a) => a.lastOffset >= this.logStartOffset);
      this.log.info({ topic: this.topic, partition: this.partition, removed, logStartOffset: this.logStartOffset }, "retention removed segments");
    }
    return removed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.active.writeIndexes();
    } catch (err) {
      // The directory may be gone (deleted topic); indexes are rebuilt from the log anyway.
      this.log.debug({ err, topic: this.topic, partition: this.partition }, "index write on close skipped");
    }
    for (const s of this.segments) s.close();
    this.segments = [];
    for (const w of this.durableWaiters) w.resolve();
  }
}
