import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BATCH,
  ControlType,
  buildBatch,
  buildControlBatch,
  controlTypeOf,
  decodeRecords,
  isControl,
  isTransactional,
  readBatchHeader,
  splitBatches,
  validateBatch,
} from "../src/protocol/record-batch";
import { MalformedFrameError, Reader } from "../src/protocol/reader";
import { Writer } from "../src/protocol/writer";

describe("primitive codecs", () => {
  it("round-trips zig-zag varints and varlongs at every magnitude", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (i, l) => {
        const w = new Writer(4).varint(i).varlong(l).varlong(-l);
        const r = new Reader(Buffer.from(w.view()));
        expect([r.varint(), r.varlong(), r.varlong()]).toEqual([i, l, -l]);
        expect(r.remaining()).toBe(0);
      }),
    );
  });

  it("encodes varints exactly as the protocol specifies", () => {
    expect([...new Writer().varint(0).view()]).toEqual([0]);
    expect([...new Writer().varint(-1).view()]).toEqual([1]);
    expect([...new Writer().varint(1).view()]).toEqual([2]);
    expect([...new Writer().varint(64).view()]).toEqual([0x80, 0x01]);
  });

  it("round-trips nullable strings, bytes and arrays", () => {
    fc.assert(
      fc.property(fc.option(fc.string()), fc.option(fc.uint8Array()), fc.array(fc.integer({ min: -1000, max: 1000 })), (s, b, a) => {
        const w = new Writer(1).nullableString(s).nullableBytes(b ? Buffer.from(b) : null).array(a, (w, v) => w.int32(v));
        const r = new Reader(Buffer.from(w.view()));
        expect(r.nullableString()).toBe(s);
        const got = r.nullableBytes();
        expect(got === null ? null : [...got]).toEqual(b ? [...b] : null);
        expect(r.array((r) => r.int32())).toEqual(a);
      }),
    );
  });

  it("refuses to read past the frame or allocate for a lying array count", () => {
    expect(() => new Reader(Buffer.from([0, 5, 65])).string()).toThrow(MalformedFrameError);
    expect(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff])).array((r) => r.int8())).toThrow(MalformedFrameError);
  });
});

const recordArb = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 20 })),
  value: fc.option(fc.uint8Array({ maxLength: 200 })),
  timestamp: fc.integer({ min: 1_500_000_000_000, max: 1_900_000_000_000 }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 8 }), value: fc.option(fc.uint8Array({ maxLength: 8 })) }), { maxLength: 3 }),
});

describe("record batch v2", () => {
  it("builds batches that validate and decode back to the same records", () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 30 }), fc.nat(1_000_000), (recs, base) => {
        const input = recs.map((r) => ({
          key: r.key ? Buffer.from(r.key) : null,
          value: r.value ? Buffer.from(r.value) : null,
          timestamp: r.timestamp,
          headers: r.headers.map((h) => ({ key: h.key, value: h.value ? Buffer.from(h.value) : null })),
        }));
        const batch = buildBatch({ baseOffset: base, records: input });
        expect(validateBatch(batch)).toBeNull();
        const h = readBatchHeader(batch);
        expect(h).toMatchObject({ baseOffset: base, magic: 2, recordCount: recs.length, lastOffsetDelta: recs.length - 1, size: batch.length });
        const out = decodeRecords(h, batch.subarray(BATCH.HEADER_SIZE));
        expect(out.map((r) => r.offset)).toEqual(input.map((_, i) => base + i));
        expect(out.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers }))).toEqual(input);
      }),
    );
  });

  it("detects any corrupted byte covered by the CRC", () => {
    const batch = buildBatch({ baseOffset: 0, records: [{ key: Buffer.from("k"), value: Buffer.from("value"), timestamp: 1 }] });
    fc.assert(
      fc.property(fc.integer({ min: BATCH.ATTRIBUTES, max: batch.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const copy = Buffer.from(batch);
        copy[at] ^= flip;
        expect(validateBatch(copy)).not.toBeNull();
      }),
    );
    // Base offset and leader epoch sit outside the CRC: the broker rewrites them freely.
    const moved = Buffer.from(batch);
    moved.writeBigInt64BE(12345n, 0);
    moved.writeInt32BE(7, BATCH.LEADER_EPOCH);
    expect(validateBatch(moved)).toBeNull();
  });

  it("checks the CRC-32C against the standard check value", async () => {
    const { crc32c } = await import("@node-rs/crc32");
    expect(crc32c(Buffer.from("123456789")) >>> 0).toBe(0xe3069283);
  });

  it("splits a record set into batches and rejects a truncated tail", () => {
    const a = buildBatch({ baseOffset: 0, records: [{ key: null, value: Buffer.from("a"), timestamp: 1 }] });
    const b = buildBatch({ baseOffset: 1, records: [{ key: null, value: Buffer.from("bb"), timestamp: 2 }] });
    const both = Buffer.concat([a, b]);
    const split = splitBatches(both);
    expect(Array.isArray(split) && split.map((x) => x.length)).toEqual([a.length, b.length]);
    expect(splitBatches(both.subarray(0, both.length - 1))).toBe("bad-length");
    expect(splitBatches(both.subarray(0, 30))).toBe("too-short");
  });

  it("marks transaction markers as control batches with their type", () => {
    const commit = buildControlBatch(9, 42, 3, ControlType.COMMIT);
    const abort = buildControlBatch(9, 42, 3, ControlType.ABORT);
    const h = readBatchHeader(commit);
    expect(validateBatch(commit)).toBeNull();
    expect([isControl(h), isTransactional(h), h.producerId, h.producerEpoch]).toEqual([true, true, 42, 3]);
    expect(controlTypeOf(commit)).toBe(ControlType.COMMIT);
    expect(controlTypeOf(abort)).toBe(ControlType.ABORT);
  });
});
