import fs from "node:fs";
import type { Logger } from "pino";
import {
  type BatchHeader,
  buildBatch,
  isControl,
  isTransactional,
  readBatchHeader,
  recordsOfBatch,
} from "../protocol/record-batch";
import { FILE_MODE } from "./data-dir";
import type { PartitionLog } from "./partition-log";
import { Segment, fsyncDir, scanSegment } from "./segment";

const recordsOf = recordsOfBatch;

/** Transactional batches are left as they are: their fate is decided by markers, not keys. */
function compactable(h: BatchHeader): boolean {
  return !isControl(h) && !isTransactional(h);
}

/**
 * Log compaction for cleanup.policy=compact: every closed segment is rewritten keeping,
 * per key, only the record with the latest offset anywhere in the log. Offsets never
 * change (batches keep their base offset and span, so gaps appear), and tombstones are
 * kept for delete.retention.ms so consumers can see the delete before the key vanishes.
 * The active segment is never rewritten.
 */
export async function compactLog(p: PartitionLog, log: Logger, now = Date.now()): Promise<boolean> {
  if (p.segments.length < 2) return false;
  const active = p.active;
  const upTo = Math.min(active.baseOffset, p.highWatermark);
  if (upTo <= p.cleanedUpTo && !p.tombstonesPending) return false;

  const latest = new Map<string, number>();
  for (const seg of [...p.segments]) {
    for await (const b of scanSegment(seg.fd, seg.size, false)) {
      if (b.header.baseOffset >= p.highWatermark) break;
      if (!compactable(b.header)) continue;
      for (const r of recordsOf(b.header, b.bytes)) if (r.key) latest.set(r.key.toString("latin1"), r.offset);
    }
  }

  const tombstoneHorizon = now - p.config.num("delete.retention.ms");
  let tombstonesLeft = false;
  let removed = 0;
  for (const seg of p.segments.slice(0, -1)) {
    if (seg.baseOffset >= upTo) break;
    const out: Buffer[] = [];
    let changed = false;
    for await (const b of scanSegment(seg.fd, seg.size, false)) {
      const h = b.header;
      if (!compactable(h)) {
        out.push(Buffer.from(b.bytes));
        continue;
      }
      const records = recordsOf(h, b.bytes);
      const keep = records.filter((r) => {
        if (!r.key) return true;
        if (latest.get(r.key.toString("latin1")) !== r.offset) return false;
        if (r.value === null) {
          if (h.maxTimestamp < tombstoneHorizon) return false;
          tombstonesLeft = true;
        }
        return true;
      });
      removed += records.length - keep.length;
      if (keep.length === records.length) {
        out.push(Buffer.from(b.bytes));
        continue;
      }
      changed = true;
      if (keep.length === 0) continue;
      out.push(
        buildBatch({
          baseOffset: h.baseOffset,
          producerId: h.producerId,
          producerEpoch: h.producerEpoch,
          baseSequence: h.baseSequence,
          lastOffsetDelta: h.lastOffsetDelta,
          records: keep.map((r) => ({
            key: r.key,
            value: r.value,
            timestamp: r.timestamp,
            headers: r.headers,
            offsetDelta: r.offset - h.baseOffset,
          })),
        }),
      );
    }
    if (changed) replaceSegment(p, seg, out);
  }
  p.cleanedUpTo = upTo;
  p.tombstonesPending = tombstonesLeft;
  if (removed > 0) log.info({ topic: p.topic, partition: p.partition, removed }, "compacted log");
  return removed > 0;
}

/** Writes the cleaned copy beside the segment, fsyncs it, and renames it into place. */
function replaceSegment(p: PartitionLog, old: Segment, batches: Buffer[]): void {
  const i = p.segments.indexOf(old);
  if (i < 0 || i === p.segments.length - 1) return; // removed by retention meanwhile, or became active
  const tmp = `${old.logPath}.cleaned`;
  const fd = fs.openSync(tmp, "w", FILE_MODE);
  let size = 0;
  for (const b of batches) {
    fs.writeSync(fd, b, 0, b.length, size);
    size += b.length;
  }
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, old.logPath);
  fsyncDir(p.dir);
  const seg = Segment.create(p.dir, old.baseOffset, p.config.num("index.interval.bytes"));
  let pos = 0;
  for (const b of batches) {
    seg.track(pos, readBatchHeader(b));
    pos += b.length;
  }
  seg.nextOffset = old.nextOffset;
  seg.createdAt = old.createdAt;
  seg.writeIndexes();
  p.segments[i] = seg;
  // In-flight fetches may still read the old (now unlinked) file through its fd.
  setTimeout(() => {
    try {
      old.close();
    } catch {
      /* closed at shutdown */
    }
  }, 30_000).unref();
}
