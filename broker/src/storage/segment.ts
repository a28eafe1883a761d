import fs from "node:fs";
import path from "node:path";
import { BATCH, type BatchHeader, readBatchHeader, validateBatch } from "../protocol/record-batch";
import { FILE_MODE } from "./data-dir";

/** Segment files are named by their base offset, zero-padded like Kafka's. */
export function segmentName(baseOffset: number): string {
  return String(baseOffset).padStart(20, "0");
}

export function readAt(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

export function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
}

export interface ScannedBatch {
  position: number;
  header: BatchHeader;
  /** The whole batch: only valid until the next batch is yielded. */
  bytes: Buffer;
}

/**
 * Walks the batches of a segment file from `from`. With `validate`, stops at the first
 * batch that is torn or fails its CRC: that is where a crashed write ended.
 */
export async function* scanSegment(
  fd: number,
  fileSize: number,
  validate: boolean,
  from = 0,
): AsyncGenerator<ScannedBatch, number> {
  const CHUNK = 4 << 20;
  let buf = Buffer.allocUnsafe(CHUNK);
  let bufStart = from;
  let bufLen = 0;
  let pos = from;
  for (;;) {
    if (fileSize - pos < BATCH.HEADER_SIZE) return pos;
    let rel = pos - bufStart;
    if (rel + BATCH.HEADER_SIZE > bufLen) {
      bufStart = pos;
      bufLen = await readAt(fd, buf, pos);
      rel = 0;
      if (bufLen < BATCH.HEADER_SIZE) return pos;
    }
    const size = buf.readInt32BE(rel + BATCH.LENGTH) + BATCH.LOG_OVERHEAD;
    if (size < BATCH.HEADER_SIZE || pos + size > fileSize) return pos;
    if (rel + size > bufLen) {
      if (size > buf.length) buf = Buffer.allocUnsafe(size);
      bufStart = pos;
      bufLen = await readAt(fd, buf, pos);
      rel = 0;
      if (bufLen < size) return pos;
    }
    const bytes = buf.subarray(rel, rel + size);
    if (validate && validateBatch(bytes) !== null) return pos;
    yield { position: pos, header: readBatchHeader(bytes), bytes };
    pos += size;
  }
}

/** Sparse index entries: one per `index.interval.bytes` of log, like Kafka's .index/.timeindex. */
export class Segment {
  readonly indexOffsets: number[] = [];
  readonly indexPositions: number[] = [];
  readonly timeIndexTimestamps: number[] = [];
  readonly timeIndexOffsets: number[] = [];
  private lastIndexedPosition = -Infinity;
  maxTimestamp = -1;
  /** Offset after the last batch, equal to baseOffset while empty. */
  nextOffset: number;
  createdAt: number;

  constructor(
    readonly dir: string,
    readonly baseOffset: number,
    public fd: number,
    public size: number,
    private readonly indexIntervalBytes: number,
  ) {
    this.nextOffset = baseOffset;
    this.createdAt = Date.now();
  }

  get logPath(): string {
    return path.join(this.dir, `${segmentName(this.baseOffset)}.log`);
  }
  get indexPath(): string {
    return path.join(this.dir, `${segmentName(this.baseOffset)}.index`);
  }
  get timeIndexPath(): string {
    return path.join(this.dir, `${segmentName(this.baseOffset)}.timeindex`);
  }

  static create(dir: string, baseOffset: number, indexIntervalBytes: number): Segment {
    const file = path.join(dir, `${segmentName(baseOffset)}.log`);
    const isNew = !fs.existsSync(file);
    const fd = fs.openSync(file, "a+", FILE_MODE);
    // fsync of the file does not make its directory entry durable: a new segment's name must be.
    if (isNew) fsyncDir(dir);
    const size = fs.fstatSync(fd).size;
    return new Segment(dir, baseOffset, fd, size, indexIntervalBytes);
  }

  /** Records one batch that now lives at `position` in the file (append or recovery scan). */
  track(position: number, h: BatchHeader): void {
    const last = h.baseOffset + h.lastOffsetDelta;
    if (position - this.lastIndexedPosition >= this.indexIntervalBytes) {
      this.indexOffsets.push(h.baseOffset);
      this.indexPositions.push(position);
      this.lastIndexedPosition = position;
    }
    if (h.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = h.maxTimestamp;
      const n = this.timeIndexTimestamps.length;
      if (n === 0 || this.timeIndexOffsets[n - 1] !== h.baseOffset) {
        this.timeIndexTimestamps.push(h.maxTimestamp);
        this.timeIndexOffsets.push(h.baseOffset);
      }
    }
    this.nextOffset = Math.max(this.nextOffset, last + 1);
  }

  append(batch: Buffer, h: BatchHeader): void {
    const position = this.size;
    let written = 0;
    while (written < batch.length) {
      written += fs.writeSync(this.fd, batch, written, batch.length - written, position + written);
    }
    this.size += batch.length;
    this.track(position, h);
  }

  /** File position of the last indexed batch starting at or before `offset`. */
  lookup(offset: number): number {
    let lo = 0;
    let hi = this.indexOffsets.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.indexOffsets[mid] <= offset) {
        found = this.indexPositions[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Smallest indexed batch offset whose max timestamp is >= ts, or null. */
  lookupTime(ts: number): number | null {
    for (let i = 0; i < this.timeIndexTimestamps.length; i++) {
      if (this.timeIndexTimestamps[i] >= ts) return i === 0 ? this.baseOffset : this.timeIndexOffsets[i - 1];
    }
    return null;
  }

  /**
   * Persists the index files when a segment is rolled, for operators and tools. On start
   * the broker rebuilds indexes from the log itself, since it scans every segment anyway
   * to rebuild producer and transaction state.
   */
  writeIndexes(): void {
    const idx = Buffer.alloc(this.indexOffsets.length * 8);
    this.indexOffsets.forEach((o, i) => {
      idx.writeUInt32BE(o - this.baseOffset, i * 8);
      idx.writeUInt32BE(this.indexPositions[i], i * 8 + 4);
    });
    const tidx = Buffer.alloc(this.timeIndexTimestamps.length * 12);
    this.timeIndexTimestamps.forEach((t, i) => {
      tidx.writeBigInt64BE(BigInt(t), i * 12);
      tidx.writeUInt32BE(this.timeIndexOffsets[i] - this.baseOffset, i * 12 + 8);
    });
    writeFileDurable(this.indexPath, idx);
    writeFileDurable(this.timeIndexPath, tidx);
  }

  truncate(size: number): void {
    fs.ftruncateSync(this.fd, size);
    fs.fsyncSync(this.fd);
    this.size = size;
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  remove(): void {
    this.close();
    for (const p of [this.logPath, this.indexPath, this.timeIndexPath]) fs.rmSync(p, { force: true });
  }
}

/** write-to-temp, fsync, rename, fsync dir: a crash leaves the old or the new file, never half. */
export function writeFileDurable(file: string, data: Buffer | string): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, "w", FILE_MODE);
  try {
    fs.writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
