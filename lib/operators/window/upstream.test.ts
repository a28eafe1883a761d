import { describe, expect, it } from "vitest";
import { WatermarkForwarder } from "./forwarder";
import { windowConfig } from "./testing/helpers";
import { UpstreamWatermarks } from "./upstream";

const mark = (task: number, watermark: number | null, idle = false, generation = 1, tasks = 3) => ({ generation, task, tasks, watermark, idle });

describe("UpstreamWatermarks (a key group behind a repartition stream)", () => {
  it("holds until every upstream task has said where it is, then takes the minimum", () => {
    const u = new UpstreamWatermarks();
    u.observe(mark(0, 500));
    u.observe(mark(2, 900));
    expect(u.current()).toBeUndefined();
    u.observe(mark(1, 700));
    expect(u.current()).toBe(500);
    u.observe(mark(0, 800));
    expect(u.current()).toBe(700);
  });

  it("leaves idle upstream tasks out; all idle: the slowest with a watermark, never the fastest", () => {
    const u = new UpstreamWatermarks();
    u.observe(mark(0, 100, true));
    u.observe(mark(1, 400));
    u.observe(mark(2, null, true));
    expect(u.current()).toBe(400);
    u.observe(mark(1, 400, true));
    expect(u.current()).toBe(100);
  });

  it("a new generation (rescale, redeploy) replaces the old task set; stale markers change nothing", () => {
    const u = new UpstreamWatermarks();
    for (const t of [0, 1, 2]) u.observe(mark(t, 1_000));
    expect(u.current()).toBe(1_000);
    expect(u.observe(mark(0, 2_000, false, 2, 2))).toBe(true);
    expect(u.current()).toBeUndefined();
    expect(u.observe(mark(1, 5_000, false, 1, 3))).toBe(false);
    u.observe(mark(1, 3_000, false, 2, 2));
    expect(u.current()).toBe(2_000);
    const restored = new UpstreamWatermarks();
    restored.restore(u.snapshot());
    expect(restored.current()).toBe(2_000);
  });
});

describe("WatermarkForwarder (the stage before the hop)", () => {
  const cfg = (extra = {}) => windowConfig({ window: { kind: "tumbling", size: "10s" }, timeField: "ts", maxOutOfOrderness: "1s", aggregates: [{ name: "n", fn: "count" }], ...extra });

  it("writes a marker when the watermark crosses a window end (or purge point), not on every advance", () => {
    const f = new WatermarkForwarder(cfg({ allowedLateness: "3s" }));
    f.assign(["a"], 0);
    expect(f.due(0)).toEqual({ watermark: null, idle: false });
    f.observe("a", 5_000, 1);
    expect(f.due(1)).toEqual({ watermark: 4_000, idle: false }); // the first finite watermark
    f.observe("a", 9_000, 2);
    expect(f.due(2)).toBeUndefined(); // 8 s: no window end crossed since 4 s
    f.observe("a", 11_500, 2);
    expect(f.due(2)).toEqual({ watermark: 10_500, idle: false }); // crossed the end of [0, 10 s)
    f.observe("a", 12_000, 3);
    expect(f.due(3)).toBeUndefined();
    f.observe("a", 14_000, 4);
    expect(f.due(4)).toEqual({ watermark: 13_000, idle: false }); // crossed its purge point (end + 3 s)
  });

  it("says when every source partition of the task is idle, and when one resumes", () => {
    const f = new WatermarkForwarder(cfg({ idleTimeout: "1s" }));
    f.assign(["a", "b"], 0);
    f.observe("a", 20_000, 0);
    f.observe("b", 30_000, 0);
    f.due(0);
    const check = f.beginCheck(5_000);
    f.completeCheck(check, new Set(["a", "b"]), 5_000);
    expect(f.due(5_000)).toMatchObject({ idle: true });
    f.observe("a", 21_000, 5_100);
    expect(f.due(5_100)).toMatchObject({ idle: false });
  });

  it("a task that owns no partition is idle once assigned; processing-time windows forward nothing", () => {
    const f = new WatermarkForwarder(cfg());
    expect(f.due(0)).toEqual({ watermark: null, idle: false });
    f.assign([], 1);
    expect(f.due(1)).toEqual({ watermark: null, idle: true });
    const p = new WatermarkForwarder(windowConfig({ window: { kind: "tumbling", size: "10s" }, aggregates: [{ name: "n", fn: "count" }] }));
    expect(p.enabled).toBe(false);
    expect(p.due(0)).toBeUndefined();
  });
});
