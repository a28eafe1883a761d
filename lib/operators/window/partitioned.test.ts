import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Row } from "@/lib/pipeline/schema";
import type { WindowChange } from "./operator";
import { PARTITION_IDLE_DEFAULT_MS, type WindowOperator } from "./operator";
import { makeWindow, sortedRows } from "./testing/helpers";
import { PartitionWatermarks } from "./watermarks";

const ev = (ts: number, user = "a") => ({ ts, user, v: 1, tag: null });
const tumbling10s = { window: { kind: "tumbling" as const, size: "10s" }, timeField: "ts", keys: [{ name: "user", expr: "user" }], aggregates: [{ name: "n", fn: "count" as const }] };
const none = new Set<string>();

describe("watermarks per source partition", () => {
  it("does not let a fast partition make a slower partition's records late", () => {
    const internal = makeWindow(tumbling10s);
    const partitioned = makeWindow(tumbling10s, { watermarks: "partitioned" });
    // Partition 0 is far ahead; partition 1's records are 90 s older.
    const rows = [ev(5_000), ev(100_000), ev(8_000), ev(9_000)];
    const parts = ["1", "0", "1", "1"];
    expect(internal.process(rows, 0).late).toHaveLength(2);
    const r = partitioned.process(rows, 0, { partitions: parts });
    expect(r.late).toEqual([]);
    // The watermark is the slower partition's: window [0, 10 s) is still open.
    expect(partitioned.watermark).toBe(9_000);
    expect(r.out).toEqual([]);
    // Once partition 1 moves past 10 s, [0, 10 s) closes with all three of its records.
    const closed = partitioned.process([ev(12_000)], 0, { partition: "1" });
    expect(closed.out).toEqual([{ user: "a", window_start: 0, window_end: 10_000, n: 3 }]);
  });

  it("holds the watermark for an assigned partition that has not delivered anything yet (the backlog case of issue 17)", () => {
    const op = makeWindow(tumbling10s, { watermarks: "partitioned" });
    op.assignPartitions(["0", "1", "2", "3"], 0);
    // Partition 0's whole backlog arrives first: nothing may close, nothing of the others may become late.
    const out: Row[] = [];
    const first = op.process([ev(1_000), ev(15_000), ev(40_000), ev(90_000)], 0, { partition: "0" });
    expect(first.out).toEqual([]);
    expect(op.watermark).toBe(-Infinity);
    for (const p of ["1", "2", "3"]) {
      const r = op.process([ev(2_000), ev(50_000)], 0, { partition: p });
      expect(r.late).toEqual([]);
      out.push(...r.out);
    }
    // Every partition has delivered up to 50 s: windows before 50 s closed with every partition's records.
    expect(op.watermark).toBe(50_000);
    expect(sortedRows(out)).toEqual(
      sortedRows([
        { user: "a", window_start: 0, window_end: 10_000, n: 4 },
        { user: "a", window_start: 10_000, window_end: 20_000, n: 1 },
        { user: "a", window_start: 40_000, window_end: 50_000, n: 1 },
      ]),
    );
    expect(op.stats().lateRecords).toBe(0);
    expect(sortedRows([...out, ...op.flush()])).toEqual(
      sortedRows([
        { user: "a", window_start: 0, window_end: 10_000, n: 4 },
        { user: "a", window_start: 10_000, window_end: 20_000, n: 1 },
        { user: "a", window_start: 40_000, window_end: 50_000, n: 1 },
        { user: "a", window_start: 50_000, window_end: 60_000, n: 3 },
        { user: "a", window_start: 90_000, window_end: 100_000, n: 1 },
      ]),
    );
  });

  it("lets a partition stop holding the watermark only when a check finds it caught up and quiet for the idle timeout (default and configured)", () => {
    for (const [config, idle] of [
      [tumbling10s, PARTITION_IDLE_DEFAULT_MS],
      [{ ...tumbling10s, idleTimeout: "2s" }, 2_000],
    ] as const) {
      const op = makeWindow(config, { watermarks: "partitioned" });
      const t0 = 1_000_000;
      op.assignPartitions(["0", "1", "2"], t0);
      op.process([ev(1_000)], t0, { partition: "1" });
      op.process([ev(50_000)], t0, { partition: "0" });
      op.process([ev(60_000)], t0 + idle / 2, { partition: "2" });
      expect(op.watermark).toBe(1_000);
      // Caught up, but quiet for less than the timeout: still holding.
      let check = op.beginSourceCheck(t0 + idle - 1)!;
      expect(op.advanceTime(t0 + idle - 1, { check, caughtUp: new Set(["0", "1", "2"]) }).out).toEqual([]);
      // Time alone (no check) releases nothing.
      expect(op.advanceTime(t0 + 5 * idle).out).toEqual([]);
      // Partition 1 has unread records: not idle, however long it has been quiet.
      check = op.beginSourceCheck(t0 + 5 * idle)!;
      expect(op.advanceTime(t0 + 5 * idle, { check, caughtUp: new Set(["0", "2"]) }).out).toEqual([]);
      expect(op.watermark).toBe(1_000);
      // Partition 1 caught up and quiet: it stops holding. Partition 2 (quiet for less
      // than the timeout) now sets the watermark; partition 0 is idle and does not.
      const released = makeWindow(config, { watermarks: "partitioned" });
      released.assignPartitions(["0", "1", "2"], t0);
      released.process([ev(1_000)], t0, { partition: "1" });
      released.process([ev(50_000)], t0, { partition: "0" });
      released.process([ev(60_000)], t0 + idle / 2, { partition: "2" });
      check = released.beginSourceCheck(t0 + idle)!;
      expect(released.advanceTime(t0 + idle, { check, caughtUp: new Set(["0", "1", "2"]) }).out).toEqual([
        { user: "a", window_start: 0, window_end: 10_000, n: 1 },
        { user: "a", window_start: 50_000, window_end: 60_000, n: 1 },
      ]);
      expect(released.watermark).toBe(60_000);
      // Every partition idle: a silent partition never moves the watermark by itself...
      check = op.beginSourceCheck(t0 + 5 * idle + 1)!;
      const allIdle = op.advanceTime(t0 + 5 * idle + 1, { check, caughtUp: new Set(["0", "1", "2"]) });
      if (idle === PARTITION_IDLE_DEFAULT_MS) {
        expect(allIdle.out).toEqual([]);
        expect(op.watermark).toBe(1_000);
      } else {
        // ...but with idleTimeout set the whole input is quiet, so each partition moves on by the
        // processing time since its own last record and the minimum of those closes [0, 10 s).
        expect(allIdle.out).toEqual([{ user: "a", window_start: 0, window_end: 10_000, n: 1 }]);
        expect(op.watermark).toBe(1_000 + 5 * idle + 1);
      }
    }
  });

  it("releases an idle partition for records fetched before the check began, not after", () => {
    const op = makeWindow(tumbling10s, { watermarks: "partitioned" });
    op.assignPartitions(["0", "1"], 0);
    op.process([ev(5_000)], 0, { partition: "1" });
    op.process([ev(30_000)], 0, { partition: "0" });
    const check = op.beginSourceCheck(20_000)!;
    // Fetched after the check began: partition 1 may have been appended a record before these.
    op.process([ev(80_000)], 20_001, { partition: "0" });
    const r = op.advanceTime(20_002, { check, caughtUp: new Set(["1"]) });
    // Partition 1 idle: the watermark moves to what partition 0 had delivered when the check began.
    expect(op.watermark).toBe(30_000);
    expect(r.out).toEqual([{ user: "a", window_start: 0, window_end: 10_000, n: 1 }]);
    // The next check covers the later record.
    const next = op.beginSourceCheck(30_000)!;
    op.advanceTime(30_000, { check: next, caughtUp: new Set(["1"]) });
    expect(op.watermark).toBe(80_000);
  });

  it("a partition that resumes after idling holds the watermark again from its own event time", () => {
    const op = makeWindow(tumbling10s, { watermarks: "partitioned" });
    op.assignPartitions(["0", "1"], 0);
    op.process([ev(10_000)], 0, { partition: "1" });
    op.process([ev(20_000)], 0, { partition: "0" });
    const check = op.beginSourceCheck(20_000)!;
    op.advanceTime(20_000, { check, caughtUp: new Set(["1"]) });
    expect(op.watermark).toBe(20_000);
    // Partition 1 resumes with a record newer than the watermark: on time, and it holds again.
    expect(op.process([ev(21_000)], 20_100, { partition: "1" }).late).toEqual([]);
    op.process([ev(60_000)], 20_200, { partition: "0" });
    expect(op.watermark).toBe(21_000);
    // Records of a partition older than a watermark that moved on while it was idle are late, as in one partition.
    expect(op.process([ev(5_000)], 20_300, { partition: "1" }).late).toHaveLength(1);
  });

  it("applies maxOutOfOrderness to each partition", () => {
    const op = makeWindow({ ...tumbling10s, maxOutOfOrderness: "3s" }, { watermarks: "partitioned" });
    op.process([ev(20_000), ev(30_000)], 0, { partitions: ["0", "1"] });
    expect(op.watermark).toBe(17_000);
  });

  it("keeps each partition's event time in the changelog: a restored task holds for a partition that was behind", () => {
    const op = makeWindow(tumbling10s, { watermarks: "partitioned" });
    op.assignPartitions(["0", "1"], 0);
    op.process([ev(5_000)], 0, { partition: "1" });
    op.process([ev(50_000)], 0, { partition: "0" });
    const changes = op.drainChanges();
    const restored = makeWindow(tumbling10s, { watermarks: "partitioned" });
    restored.restoreFromChanges(changes);
    restored.assignPartitions(["0", "1"], 100);
    expect(restored.watermark).toBe(5_000);
    // Partition 0 moves on after the restart: partition 1 (at 5 s) still holds.
    restored.process([ev(70_000)], 100, { partition: "0" });
    expect(restored.watermark).toBe(5_000);
    expect(restored.process([ev(6_000)], 100, { partition: "1" }).late).toEqual([]);
  });

  it("equals the single-watermark operator when every row comes from one partition (any order, any batching)", () => {
    const arb = fc.array(fc.record({ ts: fc.integer({ min: 0, max: 120_000 }), user: fc.constantFrom("a", "b", "c"), cut: fc.boolean() }), { maxLength: 80 });
    fc.assert(
      fc.property(arb, (events) => {
        const a = makeWindow({ ...tumbling10s, maxOutOfOrderness: "5s", allowedLateness: "5s" });
        const b = makeWindow({ ...tumbling10s, maxOutOfOrderness: "5s", allowedLateness: "5s" }, { watermarks: "partitioned" });
        b.assignPartitions(["7"], 0);
        const outA: unknown[] = [];
        const outB: unknown[] = [];
        let late = [0, 0];
        let batch: ReturnType<typeof ev>[] = [];
        const run = () => {
          const ra = a.process(batch, 0);
          const rb = b.process(batch, 0, { partition: "7" });
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

describe("PartitionWatermarks", () => {
  it("takes the minimum over assigned partitions and forgets revoked ones", () => {
    const w = new PartitionWatermarks({ boundMs: 5, idleTimeoutMs: 1_000 });
    w.assign(["0", "1", "2"], 0);
    w.observe("0", 100, 0);
    w.observe("1", 40, 0);
    expect(w.holding()).toBe(-Infinity); // partition 2 has not delivered yet
    w.observe("2", 70, 10);
    expect(w.holding()).toBe(35);
    w.observe("1", 90, 20);
    expect(w.holding()).toBe(65);
    w.assign(["0", "1"], 30);
    expect(w.holding()).toBe(85);
  });

  it("ignores a record of a partition revoked by a rebalance (fetched before it, run after it): it would hold the watermark for good", () => {
    const w = new PartitionWatermarks({ boundMs: 0, idleTimeoutMs: 1_000 });
    w.assign(["0", "3"], 0);
    w.observe("0", 100, 0);
    w.observe("3", 50, 0);
    w.assign(["0", "2"], 10);
    w.observe("3", 60, 11); // in flight from the old assignment
    w.observe("2", 120, 12);
    w.observe("0", 130, 12);
    expect(w.holding()).toBe(120);
    expect(w.has("3")).toBe(false);
    // Idle release works over the owned partitions only.
    const check = w.beginCheck(2_000);
    expect(w.completeCheck(check, new Set(["0", "2"]), 2_000)).toBe(120);
    expect(w.idle).toBe(true);
  });

  it("a check releases only idle partitions (caught up, quiet for the timeout), from the event times at its start", () => {
    const w = new PartitionWatermarks({ boundMs: 0, idleTimeoutMs: 1_000 });
    w.assign(["a", "b"], 0);
    w.observe("a", 100, 0);
    w.observe("b", 10, 0);
    const c = w.beginCheck(2_000);
    w.observe("a", 500, 2_001);
    expect(w.completeCheck(c, new Set(["b"]), 2_002)).toBe(100);
    expect(w.completeCheck(c, none, 2_002)).toBe(10);
    // Every partition idle: the slowest partition with records sets it, never the fastest.
    expect(w.completeCheck(w.beginCheck(5_000), new Set(["a", "b"]), 5_000)).toBe(10);
    // A partition that never delivered holds nothing once idle; alone, it allows nothing.
    const empty = new PartitionWatermarks({ boundMs: 0, idleTimeoutMs: 1_000 });
    empty.assign(["a", "b"], 0);
    expect(empty.completeCheck(empty.beginCheck(500), new Set(["a", "b"]), 500)).toBeUndefined();
    expect(empty.completeCheck(empty.beginCheck(1_000), new Set(["a", "b"]), 1_000)).toBeUndefined();
    empty.observe("a", 70, 1_000);
    expect(empty.completeCheck(empty.beginCheck(2_000), new Set(["a", "b"]), 2_000)).toBe(70);
  });
});

/**
 * Property tests over random partition interleavings. A simulated broker
 * holds P partitions whose records are appended one by one (wall time
 * advancing); the task fetches random subsets of partitions at random moments
 * (a fetch may return only some partitions, and only part of a partition),
 * runs source checks (begin → end offsets read → complete, with fetches in
 * between) and advances processing time, and may crash and restart from the
 * state it last committed (its changelog) and its committed positions.
 */
interface Appended {
  i: number;
  partition: string;
  ts: number;
  user: string;
  at: number;
}

type Step = { kind: "fetch"; parts: number[]; max: number } | { kind: "checkBegin" } | { kind: "checkEnd" } | { kind: "tick"; ms: number } | { kind: "commit" } | { kind: "crash" };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("fetch" as const), parts: fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }), max: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: "checkBegin" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "checkEnd" as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 400 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: "commit" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "crash" as const }) },
);

/** Records in append order: event times drift forward with jitter; `inBound` keeps each within the bound of everything appended before it. */
const workloadArb = (bound: number, inBound: boolean) =>
  fc
    .record({
      partitions: fc.integer({ min: 1, max: 4 }),
      records: fc.array(fc.record({ p: fc.nat(3), gap: fc.integer({ min: 0, max: 60 }), step: fc.integer({ min: 0, max: 900 }), jitter: fc.integer({ min: -3 * bound, max: bound }), user: fc.constantFrom("a", "b") }), { minLength: 1, maxLength: 120 }),
      skew: fc.array(fc.integer({ min: -20_000, max: 0 }), { minLength: 4, maxLength: 4 }),
    })
    .map(({ partitions, records, skew }) => {
      let t = 0;
      let base = 100_000;
      let maxTs = -Infinity;
      return {
        partitions,
        records: records.map((r, i): Appended => {
          t += r.gap;
          base += r.step;
          const p = r.p % partitions;
          let ts = base + r.jitter + (inBound ? 0 : skew[p]);
          if (inBound && ts < maxTs - bound) ts = maxTs - bound;
          maxTs = Math.max(maxTs, ts);
          return { i, partition: String(p), ts, user: r.user, at: t };
        }),
      };
    });

interface RunOutcome {
  out: Row[];
  late: Appended[];
}

/** Runs the simulated task over a workload and a schedule; ends by draining every partition and a final idle check. */
function runTask(config: object, idleMs: number, w: { partitions: number; records: Appended[] }, steps: Step[]): RunOutcome & { watermarks: number[] } {
  const ids = Array.from({ length: w.partitions }, (_, i) => String(i));
  const byPartition = new Map(ids.map((id) => [id, w.records.filter((r) => r.partition === id)]));
  let now = 0;
  const appendedBy = (id: string, t: number) => byPartition.get(id)!.filter((r) => r.at <= t).length;

  const start = (changes: WindowChange[] | undefined) => {
    const op = makeWindow(config as never, { watermarks: "partitioned" });
    if (changes) op.restoreFromChanges(changes);
    op.assignPartitions(ids, now);
    return op;
  };
  let op: WindowOperator = start(undefined);
  let positions = new Map(ids.map((id) => [id, 0]));
  // Committed: changelog entries, positions, and output.
  let changelog: WindowChange[] = [];
  let committed = { positions: new Map(positions), out: [] as Row[], late: [] as Appended[] };
  let pending = { out: [] as Row[], late: [] as Appended[] };
  let check: { token: ReturnType<WindowOperator["beginSourceCheck"]>; ends: Map<string, number> } | undefined;
  const watermarks: number[] = [];

  const take = (r: { out: Row[]; late: Row[] }) => {
    pending.out.push(...r.out);
    for (const row of r.late) pending.late.push(row as unknown as Appended);
    watermarks.push(op.watermark);
  };
  const fetch = (id: string, max: number) => {
    const pos = positions.get(id)!;
    const avail = appendedBy(id, now);
    const batch = byPartition.get(id)!.slice(pos, Math.min(avail, pos + max));
    if (!batch.length) return;
    take(op.process(batch.map((r) => Object.assign(ev(r.ts, r.user), { i: r.i })), now, { partition: id }));
    positions.set(id, pos + batch.length);
  };
  const commit = () => {
    changelog = changelog.concat(op.drainChanges());
    committed = { positions: new Map(positions), out: committed.out.concat(pending.out), late: committed.late.concat(pending.late) };
    pending = { out: [], late: [] };
  };

  for (const s of steps) {
    now += 5;
    switch (s.kind) {
      case "fetch":
        for (const p of s.parts) if (p < w.partitions) fetch(String(p), s.max);
        break;
      case "checkBegin":
        // Begin (snapshot), then the end offsets as the broker has them now.
        check = { token: op.beginSourceCheck(now), ends: new Map(ids.map((id) => [id, appendedBy(id, now)])) };
        break;
      case "checkEnd":
        if (check?.token) {
          const caughtUp = new Set(ids.filter((id) => positions.get(id)! >= check!.ends.get(id)!));
          take(op.advanceTime(now, { check: check.token, caughtUp }));
        }
        check = undefined;
        break;
      case "tick":
        now += s.ms;
        take(op.advanceTime(now));
        break;
      case "commit":
        commit();
        break;
      case "crash":
        // Uncommitted output and state are lost; the new task restores the changelog and re-reads from committed positions.
        pending = { out: [], late: [] };
        positions = new Map(committed.positions);
        op = start(changelog);
        check = undefined;
        // A new incarnation starts from the committed watermark.
        watermarks.push(NaN);
        break;
    }
  }
  // Drain: everything appended is fetched, then a check finds every partition caught up and idle.
  now = Math.max(now, w.records.at(-1)?.at ?? 0) + 1;
  for (const id of ids) fetch(id, Infinity);
  now += idleMs;
  const last = op.beginSourceCheck(now)!;
  take(op.advanceTime(now, { check: last, caughtUp: new Set(ids) }));
  commit();
  return { out: committed.out, late: committed.late, watermarks };
}

/** The single-partition reference: one watermark over every record in append order, same bound. */
function referenceInAppendOrder(config: object, records: Appended[]): { lateAt: Set<number>; op: WindowOperator } {
  const op = makeWindow(config as never);
  const lateAt = new Set<number>();
  records.forEach((r, i) => {
    if (op.process([ev(r.ts, r.user)], 0).late.length) lateAt.add(i);
  });
  return { lateAt, op };
}

describe("watermarks over random partition interleavings (property)", () => {
  const bound = 2_000;
  const config = { ...tumbling10s, maxOutOfOrderness: "2s" };
  const idleMs = 300;
  const configWithIdle = { ...config, idleTimeout: "300ms" };

  it("a record on time in append order is never late, whatever the fetch order, checks, idleness and crashes; the watermark never goes back", () => {
    fc.assert(
      fc.property(workloadArb(bound, false), fc.array(stepArb, { maxLength: 120 }), (w, steps) => {
        const run = runTask(configWithIdle, idleMs, w, steps);
        const ref = referenceInAppendOrder(config, w.records);
        const lateKeys = new Set(run.late.map((r) => r.i));
        w.records.forEach((r, i) => {
          if (lateKeys.has(i)) expect(ref.lateAt.has(i), `record ${i} (${JSON.stringify(r)}) is late in the task but on time in append order`).toBe(true);
        });
        for (let i = 1; i < run.watermarks.length; i++) if (!Number.isNaN(run.watermarks[i]) && !Number.isNaN(run.watermarks[i - 1])) expect(run.watermarks[i]).toBeGreaterThanOrEqual(run.watermarks[i - 1]);
      }),
      { numRuns: 300 },
    );
  });

  it("when no record is late in append order, the output equals the reference over the records in event-time order, exactly as a multiset", () => {
    fc.assert(
      fc.property(workloadArb(bound, true), fc.array(stepArb, { maxLength: 120 }), (w, steps) => {
        const run = runTask(configWithIdle, idleMs, w, steps);
        expect(run.late).toEqual([]);
        const ref = makeWindow(config as never);
        const sorted = [...w.records].sort((a, b) => a.ts - b.ts);
        const expected = [...ref.process(sorted.map((r) => ev(r.ts, r.user)), 0).out, ...ref.flush()];
        // Windows the task has closed are exactly the reference's; the rest are still open in both.
        const closedByTask = new Set(run.out.map((r) => `${r.user}|${r.window_start}`));
        const refClosed = expected.filter((r) => closedByTask.has(`${r.user}|${r.window_start}`));
        expect(sortedRows(run.out)).toEqual(sortedRows(refClosed));
        // Liveness: after the final idle check every window the slowest partition has passed is closed.
        const perPartition = Array.from({ length: w.partitions }, (_, p) => w.records.filter((r) => r.partition === String(p)).map((r) => r.ts)).filter((l) => l.length);
        const minMax = Math.min(...perPartition.map((l) => Math.max(...l)));
        if (Number.isFinite(minMax)) for (const r of expected) if ((r.window_end as number) <= minMax - bound) expect(closedByTask.has(`${r.user}|${r.window_start}`)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
