import { describe, expect, it } from "vitest";
import { FIRST_SLICE, MAX_SLICE, MAX_UDF_SLICE, ProgressWatchdog, rebalanceTimeoutMs, SLICE_TARGET_MS, SliceSizer, udfSliceWorstMs } from "./batch-pacing";

describe("SliceSizer", () => {
  it("starts small, doubles while slices are fast, and never exceeds its maximum", () => {
    const s = new SliceSizer();
    expect(s.next(100_000)).toBe(FIRST_SLICE);
    const sizes: number[] = [];
    for (let i = 0; i < 12; i++) {
      const n = s.next(100_000);
      sizes.push(n);
      s.observe(n, n * 0.001); // 1 µs per record
    }
    expect(sizes.slice(0, 4)).toEqual([FIRST_SLICE, 2 * FIRST_SLICE, 4 * FIRST_SLICE, 8 * FIRST_SLICE]);
    expect(Math.max(...sizes)).toBe(MAX_SLICE);
    expect(s.next(10)).toBe(10);
  });

  it("shrinks at once to what fits the target time when records turn expensive", () => {
    const s = new SliceSizer();
    s.observe(FIRST_SLICE, FIRST_SLICE * 0.001);
    s.observe(2 * FIRST_SLICE, 2 * FIRST_SLICE * 5); // 5 ms per record
    expect(s.next(100_000)).toBe(Math.floor(SLICE_TARGET_MS / 5));
    s.observe(1, 10_000); // one record took 10 s (a UDF at its time limit)
    expect(s.next(100_000)).toBe(1);
  });

  it("caps slices of plans with a UDF at two sandbox chunks", () => {
    const s = new SliceSizer(MAX_UDF_SLICE);
    for (let i = 0; i < 20; i++) s.observe(s.next(1e6), 0);
    expect(s.next(1e6)).toBe(MAX_UDF_SLICE);
  });
});

describe("rebalance timeout", () => {
  it("covers the longest slice the plan's UDFs can take, and is 15 s without one", () => {
    expect(rebalanceTimeoutMs([])).toBe(15_000);
    expect(rebalanceTimeoutMs([1_000])).toBe(15_000);
    // Two chunks × (3 timeouts + 1) × 10 s, plus 5 s to rejoin.
    expect(udfSliceWorstMs([10_000])).toBe(80_000);
    expect(rebalanceTimeoutMs([10_000])).toBe(85_000);
    expect(rebalanceTimeoutMs([10_000, 2_000])).toBe(101_000);
  });
});

describe("ProgressWatchdog", () => {
  it("is stuck after four rejoins in a row that each lost processed, uncommitted work", () => {
    const w = new ProgressWatchdog();
    w.joined();
    for (let i = 0; i < 3; i++) {
      w.processed();
      w.joined();
    }
    expect(w.stuck()).toBe(false);
    w.processed();
    w.joined();
    expect(w.stuck()).toBe(true);
    expect(w.rejoins).toBe(4);
  });

  it("is not stuck when commits get through, or when rejoins happen with nothing processed", () => {
    const w = new ProgressWatchdog();
    for (let i = 0; i < 10; i++) {
      w.processed();
      w.committed();
      w.joined();
      w.joined();
    }
    expect(w.stuck()).toBe(false);
    for (let i = 0; i < 3; i++) {
      w.processed();
      w.joined();
    }
    w.processed();
    w.committed();
    w.processed();
    w.joined();
    expect(w.rejoins).toBe(1);
  });
});
