import { ErrorCode } from "../protocol/errors";
import { type BatchHeader, isTransactional } from "../protocol/record-batch";

/** How many recent batches per producer are remembered for retry dedupe (Kafka keeps 5, = max in-flight). */
const RECENT_BATCHES = 5;

interface RecentBatch {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
}

export interface ProducerEntry {
  epoch: number;
  lastSeq: number;
  recent: RecentBatch[];
  /** First offset of this producer's open transaction on the partition, if any. */
  txnFirstOffset: number | null;
  /** When that transaction's first batch arrived here (for hanging-transaction cleanup). */
  txnStartedAt: number;
  lastSeen: number;
}

export type ProduceCheck =
  | { kind: "append" }
  | { kind: "duplicate"; baseOffset: number }
  | { kind: "error"; code: ErrorCode; message: string };

function seqAfter(seq: number, delta: number): number {
  return (seq + delta) % 0x80000000;
}

/**
 * Per-partition idempotent/transactional producer state: last sequence per producer id
 * and epoch. Rebuilt from the log on start, so it survives restarts like the data.
 */
export class ProducerStateTable {
  readonly producers = new Map<number, ProducerEntry>();

  check(h: BatchHeader): ProduceCheck {
    if (h.producerId < 0) return { kind: "append" };
    const e = this.producers.get(h.producerId);
    const firstSeq = h.baseSequence;
    const lastSeq = seqAfter(firstSeq, h.lastOffsetDelta);
    if (!e) {
      // Sequences restart at 0 for a fresh producer id (or one whose state was removed by retention).
      if (firstSeq !== 0 && h.baseSequence >= 0) {
        return { kind: "error", code: ErrorCode.UNKNOWN_PRODUCER_ID, message: `unknown producer ${h.producerId} at sequence ${firstSeq}` };
      }
      return { kind: "append" };
    }
    if (h.producerEpoch < e.epoch) {
      return { kind: "error", code: ErrorCode.INVALID_PRODUCER_EPOCH, message: `producer ${h.producerId} epoch ${h.producerEpoch} fenced by ${e.epoch}` };
    }
    if (h.baseSequence < 0) return { kind: "append" };
    if (h.producerEpoch > e.epoch) {
      if (firstSeq !== 0) {
        return { kind: "error", code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `new epoch must start at sequence 0, got ${firstSeq}` };
      }
      return { kind: "append" };
    }
    const dup = e.recent.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
    if (dup) return { kind: "duplicate", baseOffset: dup.baseOffset };
    if (e.lastSeq >= 0 && firstSeq !== seqAfter(e.lastSeq, 1)) {
      return {
        kind: "error",
        code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `producer ${h.producerId} expected sequence ${seqAfter(e.lastSeq, 1)}, got ${firstSeq}`,
      };
    }
    if (e.lastSeq < 0 && firstSeq !== 0) {
      return { kind: "error", code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `expected sequence 0, got ${firstSeq}` };
    }
    return { kind: "append" };
  }

  /** Applies a data batch that is now in the log at `baseOffset`. */
  onData(h: BatchHeader, baseOffset: number): void {
    if (h.producerId < 0) return;
    let e = this.producers.get(h.producerId);
    if (!e || h.producerEpoch > e.epoch) {
      e = { epoch: h.producerEpoch, lastSeq: -1, recent: [], txnFirstOffset: e?.txnFirstOffset ?? null, txnStartedAt: e?.txnStartedAt ?? 0, lastSeen: 0 };
      this.producers.set(h.producerId, e);
    }
    e.lastSeen = Date.now();
    if (h.baseSequence >= 0) {
      const lastSeq = seqAfter(h.baseSequence, h.lastOffsetDelta);
      e.lastSeq = lastSeq;
      e.recent.push({ firstSeq: h.baseSequence, lastSeq, baseOffset });
      if (e.recent.length > RECENT_BATCHES) e.recent.shift();
    }
    if (isTransactional(h) && e.txnFirstOffset === null) {
      e.txnFirstOffset = baseOffset;
      e.txnStartedAt = Date.now();
    }
  }

  /** Applies a transaction marker; returns the first offset of the transaction it closed. */
  onMarker(producerId: number, epoch: number): number | null {
    let e = this.producers.get(producerId);
    if (!e) {
      e = { epoch, lastSeq: -1, recent: [], txnFirstOffset: null, txnStartedAt: 0, lastSeen: 0 };
      this.producers.set(producerId, e);
    }
    // The marker's epoch is what fences a zombie on this partition: keep it as long as data.
    e.lastSeen = Date.now();
    if (epoch > e.epoch) {
      e.epoch = epoch;
      e.lastSeq = -1;
      e.recent = [];
    }
    const first = e.txnFirstOffset;
    e.txnFirstOffset = null;
    return first;
  }

  /**
   * Forgets producers idle longer than `maxIdleMs` with no open transaction (Kafka's
   * producer.id.expiration.ms): every kafkajs connect takes a new producer id. A retry
   * from a forgotten producer gets UNKNOWN_PRODUCER_ID.
   */
  prune(now: number, maxIdleMs: number): void {
    for (const [pid, e] of this.producers) {
      if (e.txnFirstOffset === null && now - e.lastSeen > maxIdleMs) this.producers.delete(pid);
    }
  }

  epochOf(producerId: number): number | null {
    return this.producers.get(producerId)?.epoch ?? null;
  }

  /** Smallest first offset over open transactions: the last stable offset when below the high watermark. */
  firstOpenTxnOffset(): number | null {
    let min: number | null = null;
    for (const e of this.producers.values()) {
      if (e.txnFirstOffset !== null && (min === null || e.txnFirstOffset < min)) min = e.txnFirstOffset;
    }
    return min;
  }

  openTransactions(): { producerId: number; epoch: number; firstOffset: number; startedAt: number }[] {
    const out: { producerId: number; epoch: number; firstOffset: number; startedAt: number }[] = [];
    for (const [producerId, e] of this.producers) {
      if (e.txnFirstOffset !== null) out.push({ producerId, epoch: e.epoch, firstOffset: e.txnFirstOffset, startedAt: e.txnStartedAt });
    }
    return out;
  }
}
