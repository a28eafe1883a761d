import { BATCH, buildBatch, decodeRecords, isControl } from "../protocol/record-batch";
import type { PartitionLog } from "./partition-log";
import { scanSegment } from "./segment";

export interface InternalRecord {
  key: string;
  /** null is a tombstone: compaction eventually removes the key. */
  value: string | null;
}

/**
 * A single-partition compacted topic the broker writes its own state to (committed
 * offsets, transaction state), so that state is exactly as durable as user data.
 */
export class InternalTopic {
  constructor(readonly log: PartitionLog) {}

  /** Resolves once the records are fsync'd under the broker's durability policy. */
  async append(records: InternalRecord[]): Promise<void> {
    if (records.length === 0) return;
    const now = Date.now();
    const batch = buildBatch({
      baseOffset: 0,
      records: records.map((r) => ({
        key: Buffer.from(r.key),
        value: r.value === null ? null : Buffer.from(r.value),
        timestamp: now,
      })),
    });
    this.log.appendInternal(batch);
    await this.log.waitDurable(this.log.logEndOffset);
  }

  async *replay(): AsyncGenerator<InternalRecord> {
    for (const seg of [...this.log.segments]) {
      for await (const b of scanSegment(seg.fd, seg.size, false)) {
        if (isControl(b.header)) continue;
        for (const rec of decodeRecords(b.header, b.bytes.subarray(BATCH.HEADER_SIZE))) {
          if (!rec.key) continue;
          yield { key: rec.key.toString("utf8"), value: rec.value === null ? null : rec.value.toString("utf8") };
        }
      }
    }
  }
}
