import { describe, expect, it } from "vitest";
import { windowNodeConfig } from "@/lib/pipeline/nodes/window";
import { EXACT_LIMIT } from "./hll";
import { buildWindow, validateWindowConfig, windowOutputSchema, WindowSnapshotError } from "./index";
import { EVENTS, makeWindow, sortedRows, windowConfig } from "./testing/helpers";

const ev = (ts: number, user = "a", v = 1, tag: string | null = null) => ({ ts, user, v, tag });
const tumbling10 = { window: { kind: "tumbling" as const, size: "10ms" }, timeField: "ts", keys: [{ name: "user", expr: "user" }] };

describe("tumbling windows", () => {
  it("emits one row per key when the watermark passes the window end, with every aggregate", () => {
    const op = makeWindow({
      ...tumbling10,
      aggregates: [
        { name: "n", fn: "count" },
        { name: "total", fn: "sum", field: "v" },
        { name: "lo", fn: "min", field: "v" },
        { name: "hi", fn: "max", field: "v" },
        { name: "mean", fn: "avg", field: "v" },
        { name: "tags", fn: "count_distinct", field: "tag" },
        { name: "tagsApprox", fn: "approx_count_distinct", field: "tag" },
        { name: "firstV", fn: "first", field: "v" },
        { name: "lastV", fn: "last", field: "v" },
        { name: "topTags", fn: "top_k", field: "tag", k: 2 },
        { name: "nTags", fn: "count", field: "tag" },
      ],
    });
    const r1 = op.process([ev(1, "a", 5, "x"), ev(3, "a", 2, "y"), ev(2, "b", 7, "x"), ev(9, "a", 4, "x")], 0);
    expect(r1.out).toEqual([]);
    const r2 = op.process([ev(10, "a", 100)], 0);
    expect(r2.out).toHaveLength(2);
    const a = r2.out.find((r) => r.user === "a")!;
    expect(a).toEqual({
      user: "a",
      window_start: 0,
      window_end: 10,
      n: 3,
      total: 11,
      lo: 2,
      hi: 5,
      mean: 11 / 3,
      tags: 2,
      tagsApprox: 2,
      firstV: 5,
      lastV: 4,
      topTags: [
        { value: "x", count: 2 },
        { value: "y", count: 1 },
      ],
      nTags: 3,
    });
    expect(r2.out.find((r) => r.user === "b")).toMatchObject({ n: 1, total: 7, firstV: 7, lastV: 7 });
    expect(op.flush()).toEqual([expect.objectContaining({ user: "a", window_start: 10, window_end: 20, n: 1, total: 100 })]);
  });

  it("counts every record with the same millisecond and never treats ts == watermark as late", () => {
    const op = makeWindow({ ...tumbling10, aggregates: [{ name: "n", fn: "count" }, { name: "f", fn: "first", field: "v" }, { name: "l", fn: "last", field: "v" }] });
    const res = op.process([ev(5, "a", 1), ev(5, "a", 2), ev(5, "a", 3), ev(5, "a", 4)], 0);
    expect(res.late).toEqual([]);
    expect(op.watermark).toBe(5);
    expect(op.flush()).toEqual([{ user: "a", window_start: 0, window_end: 10, n: 4, f: 1, l: 4 }]);
  });

  it("accepts records up to maxOutOfOrderness behind the newest event into the still-open window", () => {
    const op = makeWindow({ ...tumbling10, maxOutOfOrderness: "5ms", aggregates: [{ name: "n", fn: "count" }] });
    expect(op.process([ev(8), ev(12), ev(9)], 0).out).toEqual([]);
    expect(op.watermark).toBe(7);
    const closed = op.process([ev(15)], 0).out;
    expect(closed).toEqual([{ user: "a", window_start: 0, window_end: 10, n: 2 }]);
  });

  it("sends records beyond allowed lateness to the late output, counts them and leaves state alone", () => {
    const op = makeWindow({ ...tumbling10, aggregates: [{ name: "n", fn: "count" }] });
    op.process([ev(1), ev(25)], 0);
    const res = op.process([ev(3), ev(12)], 0);
    expect(res.late).toEqual([ev(3), ev(12)]);
    expect(res.out).toEqual([]);
    expect(op.stats()).toMatchObject({ lateRecords: 2, watermark: 25 });
    expect(op.flush()).toEqual([{ user: "a", window_start: 20, window_end: 30, n: 1 }]);
  });

  it("with allowed lateness keeps a closed window and re-emits the updated row for late records", () => {
    const op = makeWindow({ ...tumbling10, allowedLateness: "10ms", aggregates: [{ name: "n", fn: "count" }] });
    expect(op.process([ev(1), ev(2), ev(12)], 0).out).toEqual([{ user: "a", window_start: 0, window_end: 10, n: 2 }]);
    expect(op.process([ev(4)], 0)).toMatchObject({ out: [{ user: "a", window_start: 0, window_end: 10, n: 3 }], late: [] });
    // Watermark 20 = end 10 + lateness 10: the window is gone, the next record for it is late.
    op.process([ev(20)], 0);
    expect(op.process([ev(5)], 0).late).toEqual([ev(5)]);
    expect(op.stats().lateRecords).toBe(1);
  });

  it("turns records without event time or with a mistyped aggregate input into error records that change nothing", () => {
    const op = makeWindow({ ...tumbling10, aggregates: [{ name: "total", fn: "sum", field: "v" }] });
    const res = op.process([{ user: "a", v: 1 }, { ts: "yesterday", user: "a", v: 1 }, { ts: 1, user: "a", v: "7" }, ev(2, "a", 3)], 0);
    expect(res.errors.map((e) => e.reason)).toEqual([
      expect.stringContaining("no event time"),
      expect.stringContaining("no event time"),
      expect.stringContaining('aggregate "total": sum needs a number'),
    ]);
    expect(op.stats().errorRecords).toBe(3);
    expect(op.flush()).toEqual([{ user: "a", window_start: 0, window_end: 10, total: 3 }]);
  });

  it("skips null values like SQL: sum 0, avg/min/max/first null when a window saw only nulls", () => {
    const op = makeWindow({
      ...tumbling10,
      aggregates: [
        { name: "n", fn: "count", field: "tag" },
        { name: "s", fn: "sum", field: "v" },
        { name: "a", fn: "avg", field: "v" },
        { name: "m", fn: "min", field: "tag" },
        { name: "f", fn: "first", field: "tag" },
      ],
    });
    op.process([{ ts: 1, user: "a", v: null, tag: null }], 0);
    expect(op.flush()).toEqual([{ user: "a", window_start: 0, window_end: 10, n: 0, s: 0, a: null, m: null, f: null }]);
  });
});

describe("hopping windows", () => {
  it("puts each record into size/slide windows aligned to the slide", () => {
    const op = makeWindow({ window: { kind: "hopping", size: "10ms", slide: "5ms" }, timeField: "ts", aggregates: [{ name: "n", fn: "count" }] });
    const rows = [...op.process([ev(7), ev(12)], 0).out, ...op.flush()];
    expect(rows.map((r) => [r.window_start, r.window_end, r.n])).toEqual([
      [0, 10, 1],
      [5, 15, 2],
      [10, 20, 1],
    ]);
  });

  it("a record that is late for its oldest window still counts in the newer ones", () => {
    const op = makeWindow({ window: { kind: "hopping", size: "10ms", slide: "5ms" }, timeField: "ts", aggregates: [{ name: "n", fn: "count" }] });
    op.process([ev(1), ev(11)], 0); // watermark 11 closes [0,10)
    const res = op.process([ev(6)], 0); // [0,10) is gone, [5,15) is open
    expect(res.late).toEqual([]);
    expect(op.flush().find((r) => r.window_start === 5)).toMatchObject({ n: 2 });
  });
});

describe("session windows", () => {
  const session = { window: { kind: "session" as const, gap: "10ms" }, timeField: "ts", keys: [{ name: "user", expr: "user" }] };

  it("closes a session after gap without records; records exactly gap apart are separate sessions", () => {
    const op = makeWindow({ ...session, aggregates: [{ name: "n", fn: "count" }] });
    const rows = [...op.process([ev(0), ev(5), ev(14), ev(40, "b")], 0).out, ...op.flush()];
    expect(sortedRows(rows)).toEqual(
      sortedRows([
        { user: "a", window_start: 0, window_end: 24, n: 3 },
        { user: "b", window_start: 40, window_end: 50, n: 1 },
      ]),
    );
    const op2 = makeWindow({ ...session, aggregates: [{ name: "n", fn: "count" }] });
    expect([...op2.process([ev(0), ev(10)], 0).out, ...op2.flush()].map((r) => [r.window_start, r.window_end, r.n])).toEqual([
      [0, 10, 1],
      [10, 20, 1],
    ]);
  });

  it("merges two sessions when an out-of-order record bridges them, keeping first/last by event time", () => {
    const op = makeWindow({ ...session, maxOutOfOrderness: "100ms", aggregates: [{ name: "n", fn: "count" }, { name: "f", fn: "first", field: "v" }, { name: "l", fn: "last", field: "v" }] });
    op.process([ev(0, "a", 1), ev(18, "a", 3), ev(9, "a", 2)], 0);
    expect(op.flush()).toEqual([{ user: "a", window_start: 0, window_end: 28, n: 3, f: 1, l: 3 }]);
  });
});

describe("time", () => {
  it("without timeField uses processing time: windows close when advanceTime passes their end", () => {
    const op = makeWindow({ window: { kind: "tumbling", size: "1s" }, aggregates: [{ name: "n", fn: "count" }] });
    expect(op.process([{ x: 1 }, { x: 2 }], 1_500).out).toEqual([]);
    expect(op.advanceTime(1_999).out).toEqual([]);
    expect(op.advanceTime(2_000).out).toEqual([{ window_start: 1_000, window_end: 2_000, n: 2 }]);
  });

  it("emits early partial results of changed open windows every interval of processing time", () => {
    const op = makeWindow({ ...tumbling10, emit: { early: "1s" }, aggregates: [{ name: "n", fn: "count" }] });
    op.process([ev(1)], 0);
    expect(op.advanceTime(500).out).toEqual([]);
    expect(op.advanceTime(1_000).out).toEqual([{ user: "a", window_start: 0, window_end: 10, n: 1 }]);
    expect(op.advanceTime(2_000).out).toEqual([]); // unchanged since last emission
    op.process([ev(2)], 2_100);
    expect(op.advanceTime(3_000).out).toEqual([{ user: "a", window_start: 0, window_end: 10, n: 2 }]);
  });

  it("with idleTimeout moves an idle stream's watermark on with processing time", () => {
    const op = makeWindow({ ...tumbling10, idleTimeout: "1s", aggregates: [{ name: "n", fn: "count" }] });
    op.process([ev(5)], 10_000);
    expect(op.advanceTime(10_500).out).toEqual([]);
    expect(op.advanceTime(11_000).out).toEqual([{ user: "a", window_start: 0, window_end: 10, n: 1 }]);
  });

  it("in external watermark mode only the runtime's watermark closes windows", () => {
    const op = makeWindow({ ...tumbling10, aggregates: [{ name: "n", fn: "count" }] }, { watermarks: "external" });
    expect(op.process([ev(1), ev(50)], 0).out).toEqual([]);
    expect(op.process([], 0, { watermark: 10 }).out).toEqual([{ user: "a", window_start: 0, window_end: 10, n: 1 }]);
    expect(op.onWatermark(5)).toEqual([]);
    expect(op.watermark).toBe(10);
  });
});

describe("aggregates", () => {
  it("count_distinct tells 1 from '1'; approx_count_distinct is exact while small and within 5% at 20k", () => {
    const op = makeWindow({
      window: { kind: "tumbling", size: "1h" },
      timeField: "ts",
      aggregates: [
        { name: "exact", fn: "count_distinct", field: "tag" },
        { name: "approx", fn: "approx_count_distinct", field: "tag" },
      ],
    }, {}, [...EVENTS.filter((f) => f.name !== "tag"), { name: "tag", type: "json" }]);
    op.process([{ ts: 1, tag: 1 }, { ts: 1, tag: "1" }, { ts: 1, tag: 1 }, { ts: 1, tag: { a: 1 } }], 0);
    expect(op.snapshot().panes[0].entries[0][1].a[0]).toHaveLength(3);
    const small = makeWindow({ window: { kind: "tumbling", size: "1h" }, timeField: "ts", aggregates: [{ name: "approx", fn: "approx_count_distinct", field: "tag" }] });
    small.process(Array.from({ length: EXACT_LIMIT }, (_, i) => ({ ts: 1, tag: `t${i}` })), 0);
    expect(small.flush()[0].approx).toBe(EXACT_LIMIT);
    const big = makeWindow({ window: { kind: "tumbling", size: "1h" }, timeField: "ts", aggregates: [{ name: "approx", fn: "approx_count_distinct", field: "tag" }] });
    big.process(Array.from({ length: 40_000 }, (_, i) => ({ ts: 1, tag: `t${i % 20_000}` })), 0);
    const est = big.flush()[0].approx as number;
    expect(Math.abs(est - 20_000) / 20_000).toBeLessThan(0.05);
  });

  it("top_k orders by count, then by value, and returns at most k", () => {
    const op = makeWindow({ ...tumbling10, aggregates: [{ name: "top", fn: "top_k", field: "tag", k: 2 }] });
    op.process(["b", "a", "c", "c", "b", "d"].map((t) => ev(1, "a", 1, t)), 0);
    expect(op.flush()[0].top).toEqual([
      { value: "b", count: 2 },
      { value: "c", count: 2 },
    ]);
  });
});

describe("state", () => {
  it("snapshot survives JSON and restores into a fresh operator that continues identically", () => {
    const cfg = { ...tumbling10, allowedLateness: "20ms", aggregates: [{ name: "n", fn: "count" as const }, { name: "d", fn: "approx_count_distinct" as const, field: "tag" }] };
    const a = makeWindow(cfg);
    a.process([...Array.from({ length: 300 }, (_, i) => ev(3, "a", 1, `t${i}`)), ev(15, "b")], 0);
    const b = makeWindow(cfg);
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    expect(b.snapshot()).toEqual(a.snapshot());
    const more = [ev(4, "a", 1, "new"), ev(40, "b")];
    expect(sortedRows(b.process(more, 0).out)).toEqual(sortedRows(a.process(more, 0).out));
  });

  it("rejects a snapshot of a different window", () => {
    const a = makeWindow({ ...tumbling10, aggregates: [{ name: "n", fn: "count" }] });
    const b = makeWindow({ ...tumbling10, aggregates: [{ name: "s", fn: "sum", field: "v" }] });
    const c = makeWindow({ window: { kind: "session", gap: "1s" }, timeField: "ts", aggregates: [{ name: "n", fn: "count" }] });
    expect(() => b.restore(a.snapshot())).toThrow(WindowSnapshotError);
    expect(() => c.restore(a.snapshot())).toThrow(WindowSnapshotError);
  });

  it("drainChanges emits tombstones for purged windows that were logged, and only changes since the last drain", () => {
    const op = makeWindow({ ...tumbling10, aggregates: [{ name: "n", fn: "count" }] });
    op.process([ev(1, "a"), ev(2, "b")], 0);
    expect(op.drainChanges().map((c) => c.key)).toEqual(["P:0", "p:0:a", "p:0:b", "meta"]);
    expect(op.drainChanges().map((c) => c.key)).toEqual(["meta"]);
    op.process([ev(11, "a")], 0);
    const changes = op.drainChanges();
    expect(changes.filter((c) => c.value === null).map((c) => c.key)).toEqual(["P:0", "p:0:a", "p:0:b"]);
    expect(changes.map((c) => c.key)).toContain("p:10:a");
  });
});

describe("keys", () => {
  it("groups by typed key values: 1 and '1' are different groups; several keys combine", () => {
    const schema = [{ name: "ts", type: "timestamp" as const }, { name: "k", type: "json" as const }, { name: "c", type: "string" as const }];
    const op = makeWindow({ window: { kind: "tumbling", size: "10ms" }, timeField: "ts", keys: [{ name: "k", expr: "k" }, { name: "c", expr: "c" }], aggregates: [{ name: "n", fn: "count" }] }, {}, schema);
    op.process([{ ts: 1, k: 1, c: "x" }, { ts: 1, k: "1", c: "x" }, { ts: 1, k: 1, c: "x" }, { ts: 1, k: 1, c: "y" }], 0);
    expect(sortedRows(op.flush())).toEqual(
      sortedRows([
        { k: 1, c: "x", window_start: 0, window_end: 10, n: 2 },
        { k: "1", c: "x", window_start: 0, window_end: 10, n: 1 },
        { k: 1, c: "y", window_start: 0, window_end: 10, n: 1 },
      ]),
    );
  });
});

describe("validation and output schema", () => {
  const codes = (input: Parameters<typeof windowConfig>[0]) =>
    [...validateWindowConfig(windowConfig(input), EVENTS)].map((d) => `${d.severity}:${d.code}@${d.path}`);

  it("reports config errors with paths", () => {
    expect(codes({ window: { kind: "hopping", size: "1m", slide: "2m" }, timeField: "ts", aggregates: [{ name: "n", fn: "count" }] })).toContain("error:slide-exceeds-size@window.slide");
    expect(codes({ window: { kind: "hopping", size: "1h", slide: "1s" }, timeField: "ts", aggregates: [{ name: "n", fn: "count" }] })).toContain("error:too-many-windows@window.slide");
    expect(codes({ window: { kind: "tumbling", size: "0s" }, timeField: "ts", aggregates: [{ name: "n", fn: "count" }] })).toContain("error:invalid-duration@window.size");
    expect(codes({ ...tumbling10, aggregates: [{ name: "s", fn: "sum", field: "usr" }] })).toContain("error:unknown-field@aggregates[0].field");
    expect(codes({ ...tumbling10, aggregates: [{ name: "s", fn: "sum", field: "user" }] })).toContain("error:wrong-type@aggregates[0].field");
    expect(codes({ ...tumbling10, aggregates: [{ name: "s", fn: "max" }] })).toContain("error:missing-field@aggregates[0].field");
    expect(codes({ ...tumbling10, aggregates: [{ name: "t", fn: "top_k", field: "tag" }] })).toContain("error:missing-k@aggregates[0].k");
    expect(codes({ ...tumbling10, aggregates: [{ name: "t", fn: "top_k", field: "tag", k: 0 }] })).toContain("error:invalid-k@aggregates[0].k");
    expect(codes({ ...tumbling10, aggregates: [{ name: "user", fn: "count" }] })).toContain("error:duplicate-name@aggregates[0].name");
    expect(codes({ ...tumbling10, timeField: "user", aggregates: [{ name: "n", fn: "count" }] })).toContain("error:wrong-type@timeField");
    expect(codes({ ...tumbling10, timeField: "tss", aggregates: [{ name: "n", fn: "count" }] })).toContain("error:unknown-field@timeField");
    expect(codes({ ...tumbling10, aggregates: [{ name: "n", fn: "count" }] })).toEqual([]);
    const unknown = validateWindowConfig(windowConfig({ ...tumbling10, aggregates: [{ name: "s", fn: "sum", field: "vv" }] }), EVENTS);
    expect(unknown[0].message).toContain('did you mean "v"');
  });

  it("warns for a Window without an event-time field", () => {
    expect(codes({ window: { kind: "tumbling", size: "1m" }, allowedLateness: "1m", aggregates: [{ name: "n", fn: "count" }] })).toEqual([
      "warning:processing-time@timeField",
      "warning:ignored@allowedLateness",
    ]);
  });

  it("rejects bad durations and empty aggregate lists at parse time", () => {
    expect(windowNodeConfig.safeParse({ window: { kind: "tumbling", size: "1 minute" }, aggregates: [{ name: "n", fn: "count" }] }).success).toBe(false);
    expect(windowNodeConfig.safeParse({ window: { kind: "tumbling", size: "1m" }, aggregates: [] }).success).toBe(false);
  });

  it("outputs key fields, window start/end and typed aggregates", () => {
    const cfg = windowConfig({
      ...tumbling10,
      keys: [{ name: "user", expr: "user" }, { name: "big", expr: "v > 10" }],
      aggregates: [
        { name: "n", fn: "count" },
        { name: "s", fn: "sum", field: "v" },
        { name: "m", fn: "avg", field: "v" },
        { name: "last_tag", fn: "last", field: "tag" },
        { name: "top", fn: "top_k", field: "tag", k: 3 },
      ],
    });
    const schema = windowOutputSchema(cfg, EVENTS);
    expect(schema.map((f) => [f.name, f.type, f.nullable ?? false])).toEqual([
      ["user", "string", false],
      ["big", "bool", false],
      ["window_start", "timestamp", false],
      ["window_end", "timestamp", false],
      ["n", "int", false],
      ["s", "int", false],
      ["m", "float", true],
      ["last_tag", "string", true],
      ["top", { list: { struct: [{ name: "value", type: "string" }, { name: "count", type: "int" }] } }, false],
    ]);
  });

  it("buildWindow reports key expression errors at keys[i].expr and builds no operator", () => {
    const built = buildWindow(windowConfig({ ...tumbling10, keys: [{ name: "u", expr: "usr + " }], aggregates: [{ name: "n", fn: "count" }] }), EVENTS);
    expect(built.create).toBeUndefined();
    expect(built.diagnostics.some((d) => d.severity === "error" && d.path === "keys[0].expr")).toBe(true);
  });
});
