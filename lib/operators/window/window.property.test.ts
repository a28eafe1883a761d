import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { WindowNodeConfigInput } from "@/lib/pipeline/nodes/window";
import type { Row } from "@/lib/pipeline/schema";
import { distinctKey } from "./aggregates";
import type { WindowChange, WindowOperator } from "./operator";
import { makeWindow, sortedRows } from "./testing/helpers";

/**
 * Property tests against a naive reference: group the accepted events by key
 * and window, then compute every aggregate from the plain list.
 */
type Ev = { ts: number; user: string; v: number; tag: string | null };
type Spec = { kind: "tumbling"; size: number } | { kind: "hopping"; size: number; slide: number } | { kind: "session"; gap: number };

const evArb = fc.record({
  ts: fc.integer({ min: 0, max: 120 }), // a small range: many equal timestamps
  user: fc.constantFrom("a", "b", "c"),
  v: fc.integer({ min: -5, max: 5 }),
  tag: fc.constantFrom("x", "y", "z", null),
});
const specArb: fc.Arbitrary<Spec> = fc.oneof(
  fc.constantFrom(5, 10, 30).map((size) => ({ kind: "tumbling" as const, size })),
  fc.constantFrom([10, 5], [30, 10], [20, 20], [15, 10]).map(([size, slide]) => ({ kind: "hopping" as const, size, slide })),
  fc.constantFrom(3, 10).map((gap) => ({ kind: "session" as const, gap })),
);

const AGGS: WindowNodeConfigInput["aggregates"] = [
  { name: "n", fn: "count" },
  { name: "sum", fn: "sum", field: "v" },
  { name: "min", fn: "min", field: "v" },
  { name: "max", fn: "max", field: "v" },
  { name: "avg", fn: "avg", field: "v" },
  { name: "tags", fn: "count_distinct", field: "tag" },
  { name: "tagsApprox", fn: "approx_count_distinct", field: "tag" },
  { name: "first", fn: "first", field: "v" },
  { name: "last", fn: "last", field: "v" },
  { name: "top", fn: "top_k", field: "tag", k: 2 },
];

function config(spec: Spec, ooo: number, lateness: number, early?: number): WindowNodeConfigInput {
  const window =
    spec.kind === "tumbling"
      ? { kind: "tumbling" as const, size: `${spec.size}ms` }
      : spec.kind === "hopping"
        ? { kind: "hopping" as const, size: `${spec.size}ms`, slide: `${spec.slide}ms` }
        : { kind: "session" as const, gap: `${spec.gap}ms` };
  return {
    window,
    timeField: "ts",
    maxOutOfOrderness: `${ooo}ms`,
    allowedLateness: `${lateness}ms`,
    keys: [{ name: "user", expr: "user" }],
    aggregates: AGGS,
    ...(early === undefined ? {} : { emit: { early: `${early}ms` } }),
  };
}

function windowsOf(spec: Spec, ts: number): [number, number][] {
  if (spec.kind === "tumbling") return [[ts - (ts % spec.size), ts - (ts % spec.size) + spec.size]];
  if (spec.kind === "hopping") {
    const out: [number, number][] = [];
    for (let s = ts - (ts % spec.slide); s > ts - spec.size; s -= spec.slide) out.push([s, s + spec.size]);
    return out;
  }
  throw new Error("sessions are grouped separately");
}

/** Aggregates of one window from its events, in arrival order (index = arrival position). */
function aggregate(user: string, start: number, end: number, evs: { e: Ev; at: number }[]): Row {
  const byTime = [...evs].sort((a, b) => a.e.ts - b.e.ts || a.at - b.at);
  const vs = evs.map((x) => x.e.v);
  const tags = evs.map((x) => x.e.tag).filter((t): t is string => t !== null);
  const counts = new Map<string, number>();
  for (const t of tags) counts.set(t, (counts.get(t) ?? 0) + 1);
  const top = [...counts]
    .sort((a, b) => b[1] - a[1] || (distinctKey(a[0]) < distinctKey(b[0]) ? -1 : 1))
    .slice(0, 2)
    .map(([value, count]) => ({ value, count }));
  const sum = vs.reduce((a, b) => a + b, 0);
  return {
    user,
    window_start: start,
    window_end: end,
    n: evs.length,
    sum,
    min: Math.min(...vs),
    max: Math.max(...vs),
    avg: sum / vs.length,
    tags: new Set(tags).size,
    tagsApprox: new Set(tags).size,
    first: byTime[0].e.v,
    last: byTime[byTime.length - 1].e.v,
    top,
  };
}

/** Reference result for the accepted events (in arrival order). */
function reference(spec: Spec, accepted: { e: Ev; at: number; open?: (end: number) => boolean }[]): Row[] {
  const groups = new Map<string, { user: string; start: number; end: number; evs: { e: Ev; at: number }[] }>();
  if (spec.kind === "session") {
    for (const user of ["a", "b", "c"]) {
      const evs = accepted.filter((x) => x.e.user === user).sort((a, b) => a.e.ts - b.e.ts || a.at - b.at);
      let cur: { user: string; start: number; end: number; evs: { e: Ev; at: number }[] } | undefined;
      for (const x of evs) {
        if (cur && x.e.ts < cur.end) {
          cur.evs.push(x);
          cur.end = Math.max(cur.end, x.e.ts + spec.gap);
        } else {
          cur = { user, start: x.e.ts, end: x.e.ts + spec.gap, evs: [x] };
          groups.set(`${user}/${x.e.ts}`, cur);
        }
      }
    }
  } else {
    for (const x of accepted) {
      for (const [start, end] of windowsOf(spec, x.e.ts)) {
        // A hopping record that is late for its oldest windows still counts in the open ones.
        if (x.open && !x.open(end)) continue;
        const k = `${x.e.user}/${start}`;
        const g = groups.get(k) ?? { user: x.e.user, start, end, evs: [] };
        g.evs.push(x);
        groups.set(k, g);
      }
    }
  }
  return [...groups.values()].map((g) => aggregate(g.user, g.start, g.end, g.evs));
}

/** Runs events through an operator in the given batches; returns every emitted row, late rows and the operator. */
function run(op: WindowOperator, batches: Ev[][], nowStep = 0) {
  const out: Row[] = [];
  const late: Row[] = [];
  batches.forEach((b, i) => {
    const r = op.process(b, i * nowStep);
    expect(r.errors).toEqual([]);
    out.push(...r.out);
    late.push(...r.late);
  });
  return { out, late };
}

/** Splits a list into consecutive batches at the given (sorted, deduplicated) cut points. */
function split<T>(xs: T[], cuts: number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (xs.length + 1)))].sort((a, b) => a - b);
  const out: T[][] = [];
  let prev = 0;
  for (const p of [...points, xs.length]) {
    out.push(xs.slice(prev, p));
    prev = p;
  }
  return out;
}

/** The last emitted row per (key, window start): with updating results, the final value. */
function finalRows(rows: Row[]): Row[] {
  const last = new Map<string, Row>();
  for (const r of rows) last.set(`${r.user}/${r.window_start}`, r);
  return [...last.values()];
}

const RUNS = { numRuns: 150 };

describe("window properties", () => {
  it("aggregates equal the naive reference for any arrival order within the out-of-orderness bound, any batching", () => {
    fc.assert(
      fc.property(
        specArb,
        fc.array(evArb, { maxLength: 80 }),
        fc.integer({ min: 0, max: 30 }),
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 80, maxLength: 80 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (spec, events, ooo, delays, cuts) => {
          // Arrival order = event time + a delay in [0, ooo]: no record is more than ooo behind the newest.
          const arrival = events
            .map((e, i) => ({ e, key: e.ts + (ooo === 0 ? 0 : delays[i] % (ooo + 1)), i }))
            .sort((a, b) => a.key - b.key || a.i - b.i)
            .map((x) => x.e);
          const op = makeWindow(config(spec, ooo, 0), { changeCapture: false });
          const { out, late } = run(op, split(arrival, cuts));
          out.push(...op.flush());
          expect(late).toEqual([]);
          expect(op.stats().lateRecords).toBe(0);
          // Exactly one row per window (nothing fires early or twice) and it equals the reference.
          expect(sortedRows(out)).toEqual(sortedRows(reference(spec, arrival.map((e, at) => ({ e, at })))));
        },
      ),
      RUNS,
    );
  });

  it("records beyond allowed lateness go to the late output and are counted; the final rows equal the reference over the rest", () => {
    fc.assert(
      fc.property(
        specArb.filter((s) => s.kind !== "session"),
        fc.array(evArb, { maxLength: 80 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 30 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (spec, arrival, ooo, lateness, cuts) => {
          // Reference watermark, simulated in arrival order.
          let W = -Infinity;
          const accepted: { e: Ev; at: number; open: (end: number) => boolean }[] = [];
          const expectedLate: Ev[] = [];
          arrival.forEach((e, at) => {
            if (windowsOf(spec, e.ts).every(([, end]) => end + lateness <= W)) expectedLate.push(e);
            else {
              const wAtArrival = W;
              accepted.push({ e, at, open: (end) => end + lateness > wAtArrival });
              W = Math.max(W, e.ts - ooo);
            }
          });
          const op = makeWindow(config(spec, ooo, lateness), { changeCapture: false });
          const { out, late } = run(op, split(arrival, cuts));
          out.push(...op.flush());
          expect(late).toEqual(expectedLate);
          expect(op.stats().lateRecords).toBe(expectedLate.length);
          expect(sortedRows(finalRows(out))).toEqual(sortedRows(reference(spec, accepted)));
        },
      ),
      RUNS,
    );
  });

  it("snapshot → restore mid-stream gives the same output as an uninterrupted run", () => {
    fc.assert(
      fc.property(
        specArb,
        fc.array(evArb, { maxLength: 80 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 30 }),
        fc.option(fc.constantFrom(150, 400), { nil: undefined }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (spec, arrival, ooo, lateness, early, cuts, at) => {
          const cfg = config(spec, ooo, lateness, early);
          const batches = split(arrival, cuts);
          const whole = makeWindow(cfg);
          const a = run(whole, batches, 100);
          a.out.push(...whole.advanceTime(batches.length * 100).out, ...whole.flush());

          const k = at % (batches.length + 1);
          const first = makeWindow(cfg);
          const b1 = run(first, batches.slice(0, k), 100);
          const second = makeWindow(cfg);
          second.restore(JSON.parse(JSON.stringify(first.snapshot())));
          const b2 = { out: [] as Row[], late: [] as Row[] };
          batches.slice(k).forEach((b, j) => {
            const r = second.process(b, (k + j) * 100);
            b2.out.push(...r.out);
            b2.late.push(...r.late);
          });
          b2.out.push(...second.advanceTime(batches.length * 100).out, ...second.flush());

          expect(sortedRows([...b1.out, ...b2.out])).toEqual(sortedRows(a.out));
          expect([...b1.late, ...b2.late]).toEqual(a.late);
          expect(second.stats()).toEqual(whole.stats());
        },
      ),
      RUNS,
    );
  });

  it("change capture replayed (raw or compacted) into a fresh operator reproduces the state", () => {
    fc.assert(
      fc.property(
        specArb,
        fc.array(evArb, { maxLength: 80 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 40 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        fc.array(evArb, { maxLength: 20 }),
        (spec, arrival, ooo, lateness, cuts, drains, more) => {
          const cfg = config(spec, ooo, lateness, 150);
          const op = makeWindow(cfg);
          const log: WindowChange[] = [];
          split(arrival, cuts).forEach((b, i) => {
            op.process(b, i * 100);
            op.advanceTime(i * 100 + 50);
            if (drains[i % drains.length]) log.push(...op.drainChanges());
          });
          log.push(...op.drainChanges());
          // A compacted topic keeps only the latest value per key and drops deleted keys.
          const compacted = new Map<string, WindowChange>();
          for (const c of log) {
            if (c.value === null) compacted.delete(c.key);
            else compacted.set(c.key, c);
          }
          for (const entries of [log, [...compacted.values()]]) {
            const fresh = makeWindow(cfg);
            fresh.restoreFromChanges(JSON.parse(JSON.stringify(entries)));
            expect(fresh.snapshot()).toEqual(op.snapshot());
          }
          const fresh = makeWindow(cfg);
          fresh.restoreFromChanges(log);
          const x = fresh.process(more, 10_000);
          const y = op.process(more, 10_000);
          expect(sortedRows([...x.out, ...fresh.flush()])).toEqual(sortedRows([...y.out, ...op.flush()]));
          expect(x.late).toEqual(y.late);
        },
      ),
      RUNS,
    );
  });
});
