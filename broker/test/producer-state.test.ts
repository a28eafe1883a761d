import { describe, expect, it } from "vitest";
import { ErrorCode } from "../src/protocol/errors";
import { type BatchHeader, buildBatch, readBatchHeader } from "../src/protocol/record-batch";
import { ProducerStateTable } from "../src/txn/producer-state";

function header(producerId: number, epoch: number, seq: number, count = 1, transactional = false): BatchHeader {
  return readBatchHeader(
    buildBatch({
      baseOffset: 0,
      producerId,
      producerEpoch: epoch,
      baseSequence: seq,
      transactional,
      records: Array.from({ length: count }, () => ({ key: null, value: null, timestamp: 1 })),
    }),
  );
}

describe("producer state", () => {
  it("accepts consecutive sequences, dedupes any of the last five batches, refuses gaps", () => {
    const t = new ProducerStateTable();
    let offset = 0;
    const append = (h: BatchHeader) => {
      expect(t.check(h)).toEqual({ kind: "append" });
      t.onData(h, offset);
      offset += h.lastOffsetDelta + 1;
    };
    append(header(7, 0, 0, 3));
    append(header(7, 0, 3, 2));
    expect(t.check(header(7, 0, 0, 3))).toEqual({ kind: "duplicate", baseOffset: 0 });
    expect(t.check(header(7, 0, 3, 2))).toEqual({ kind: "duplicate", baseOffset: 3 });
    expect(t.check(header(7, 0, 6, 1))).toMatchObject({ kind: "error", code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    for (let i = 0; i < 5; i++) append(header(7, 0, 5 + i));
    // The first batch fell out of the dedupe window: it is now out of order, not a duplicate.
    expect(t.check(header(7, 0, 0, 3))).toMatchObject({ kind: "error", code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
  });

  it("fences older epochs and restarts sequences at a new epoch", () => {
    const t = new ProducerStateTable();
    t.onData(header(1, 2, 0), 0);
    expect(t.check(header(1, 1, 1))).toMatchObject({ kind: "error", code: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(t.check(header(1, 3, 5))).toMatchObject({ kind: "error", code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(t.check(header(1, 3, 0))).toEqual({ kind: "append" });
    expect(t.check(header(2, 0, 4))).toMatchObject({ kind: "error", code: ErrorCode.UNKNOWN_PRODUCER_ID });
  });

  it("tracks the first offset of open transactions until their marker", () => {
    const t = new ProducerStateTable();
    t.onData(header(1, 0, 0, 1, true), 10);
    t.onData(header(2, 0, 0, 1, true), 12);
    t.onData(header(1, 0, 1, 1, true), 14);
    expect(t.firstOpenTxnOffset()).toBe(10);
    expect(t.onMarker(1, 0)).toBe(10);
    expect(t.firstOpenTxnOffset()).toBe(12);
    expect(t.onMarker(2, 1)).toBe(12);
    expect(t.firstOpenTxnOffset()).toBeNull();
    expect(t.epochOf(2)).toBe(1);
  });

  it("forgets idle producers without an open transaction, never one with", () => {
    const t = new ProducerStateTable();
    t.onData(header(1, 0, 0), 0);
    t.onData(header(2, 0, 0, 1, true), 1);
    t.prune(Date.now() + 10_000, 5_000);
    expect(t.epochOf(1)).toBeNull();
    expect(t.epochOf(2)).toBe(0);
    expect(t.check(header(1, 0, 1))).toMatchObject({ kind: "error", code: ErrorCode.UNKNOWN_PRODUCER_ID });
  });
});
