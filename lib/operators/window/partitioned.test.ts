import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PARTITION_IDLE_DEFAULT_MS } from "./operator";
import { makeWindow, sortedRows } from "./testing/helpers";

const ev = (ts: number, user = "a") => ({ ts, user, v: 1, tag: null });
const tumbling10s = { window: { kind: "tumbling" as const, size: "10s" }, timeField: "ts", keys: [{ name: "user", expr: "user" }], aggregates: [{ name: "n", fn: "count" as const }] };

describe("watermarks per source partition", () => {
  it("does not let a fast partition make a slower partition's records late", () => {
    const internal = makeWindow(tumbling10s);
    const partitioned = makeWindow(tumbling10s, { watermarks: "partitioned" });
    // Partition 0 is far ahead; partition 1's records are 90 s older.
    const rows = [ev(5_000), ev(100_000), ev(8_000), ev(9_000)];
    const parts = [1, 0, 1, 1];
    expect(internal.process(rows, 0).late).toHaveLength(2);
    const r = partitioned.process(rows, 0, { partitions: parts });
    expect(r.late).toEqual([]);
    // The watermark is the slower partition's: window [0, 10 s) is still open.
    expect(partitioned.watermark).toBe(9_000);
    expect(r.out).toEqual([]);
    // Once partition 1 moves past 10 s, [0, 10 s) closes with all three of its records.
    const closed = partitioned.process([ev(12_000)], 0, { partitions: [1] });
    expect(closed.out).toEqual([{ user: "a", window_start: 0, window_end: 10_000, n: 3 }]);
  });

  it("stops an idle partition from holding windows back after the idle timeout (default and configured)", () => {
    for (const [config, idle] of [
      [tumbling10s, PARTITION_IDLE_DEFAULT_MS],
      [{ ...tumbling10s, idleTimeout: "2s" }, 2_000],
    ] as const) {
      const op = makeWindow(config, { watermarks: "partitioned" });
      op.process([ev(1_000)], 1_000_000, { partitions: [1] });
      op.process([ev(50_000)], 1_000_000, { partitions: [0] });
      expect(op.watermark).toBe(1_000);
      // Partition 1 says nothing more; before the timeout the window stays open...
      expect(op.advanceTime(1_000_000 + idle - 1).out).toEqual([]);
      // ...after it, partition 0 alone sets the watermark and [0, 10 s) closes.
      expect(op.advanceTime(1_000_000 + idle).out).toEqual([{ user: "a", window_start: 0, window_end: 10_000, n: 1 }]);
      // Without idleTimeout only partition 0 counts now; with it, the whole input
      // was also quiet that long, so the watermark moves on by the time elapsed.
      expect(op.watermark).toBe(idle === PARTITION_IDLE_DEFAULT_MS ? 50_000 : 52_000);
    }
  });

  it("applies maxOutOfOrderness to each partition", () => {
    const op = makeWindow({ ...tumbling10s, maxOutOfOrderness: "3s" }, { watermarks: "partitioned" });
    op.process([ev(20_000), ev(30_000)], 0, { partitions: [0, 1] });
    expect(op.watermark).toBe(17_000);
  });

  it("equals the single-watermark operator when every row comes from one partition (any order, any batching)", () => {
    const arb = fc.array(fc.record({ ts: fc.integer({ min: 0, max: 120_000 }), user: fc.constantFrom("a", "b", "c"), cut: fc.boolean() }), { maxLength: 80 });
    fc.assert(
      fc.property(arb, (events) => {
        const a = makeWindow({ ...tumbling10s, maxOutOfOrderness: "5s", allowedLateness: "5s" });
        const b = makeWindow({ ...tumbling10s, maxOutOfOrderness: "5s", allowedLateness: "5s" }, { watermarks: "partitioned" });
        const outA: unknown[] = [];
        const outB: unknown[] = [];
        let late = [0, 0];
        let batch: ReturnType<typeof ev>[] = [];
        const run = () => {
          const ra = a.process(batch, 0);
          const rb = b.process(batch, 0, { partitions: batch.map(() => 7) });
          outA.push(...ra.out);
          outB.push(...rb.out);
          late = [late[0] + ra.late.length, late[1] + rb.late.length];
          batch = [];
        };
        for (const e of events) {
          batch.push(ev(e.ts, e.user));
          if (e.cut) run();
        }
        run();
        outA.push(...a.flush());
        outB.push(...b.flush());
        expect(sortedRows(outB as never)).toEqual(sortedRows(outA as never));
        expect(late[1]).toBe(late[0]);
      }),
      { numRuns: 200 },
    );
  });
});
