import { describe, expect, it } from "vitest";
import { holdMs, observe, type PipelineFacts, type RuleLike } from "./observe";

const now = Date.UTC(2026, 11, 4, 12, 0, 30);
const minute = (ago: number) => Math.floor(now / 60_000) * 60 - ago * 60;
const facts = (p: Partial<PipelineFacts> = {}): PipelineFacts => ({
  kind: "pipeline", deployed: true, desiredState: "running", actualState: "running", consumerLag: 0, recordsPerSec: 100,
  readsByMinute: new Map(), erroredByMinute: new Map(), failures: [], mismatchedMinutes: [], ...p,
});
const rule = (r: Partial<RuleLike>): RuleLike => ({ condition: "consumer_lag", threshold: 0, forSeconds: 60, createdAt: 0, memory: {}, ...r });

describe("alert observations", () => {
  it("consumer lag and throughput are levels; a stopped pipeline reads nothing", () => {
    expect(observe(rule({ threshold: 1_000 }), facts({ consumerLag: 1_500 }), now)).toEqual({ value: 1_500, holds: true });
    expect(observe(rule({ threshold: 1_000 }), facts({ consumerLag: null }), now)).toEqual({ value: null, holds: null });
    expect(observe(rule({ condition: "throughput_below", threshold: 50 }), facts({ recordsPerSec: 100 }), now).holds).toBe(false);
    expect(observe(rule({ condition: "throughput_below", threshold: 50 }), facts({ desiredState: "stopped", recordsPerSec: 100 }), now)).toEqual({ value: 0, holds: true });
    expect(holdMs("consumer_lag", 60)).toBe(60_000);
    expect(holdMs("no_input", 60)).toBe(0);
  });

  it("error rate is dead letters over reads in the last two minutes", () => {
    const f = facts({ readsByMinute: new Map([[minute(0), 100], [minute(1), 100], [minute(5), 1_000]]), erroredByMinute: new Map([[minute(0), 3], [minute(5), 500]]) });
    expect(observe(rule({ condition: "error_rate", threshold: 1 }), f, now)).toEqual({ value: 1.5, holds: true });
    expect(observe(rule({ condition: "error_rate", threshold: 2 }), f, now).holds).toBe(false);
    expect(observe(rule({ condition: "error_rate", threshold: 1 }), facts(), now)).toEqual({ value: 0, holds: false });
  });

  it("no input holds only after the rule has watched a whole window of silence", () => {
    const quiet = facts({ readsByMinute: new Map([[minute(10), 5]]) });
    expect(observe(rule({ condition: "no_input", forSeconds: 300 }), quiet, now)).toEqual({ value: 0, holds: true });
    expect(observe(rule({ condition: "no_input", forSeconds: 900 }), quiet, now)).toEqual({ value: 5, holds: false });
    expect(observe(rule({ condition: "no_input", forSeconds: 300, createdAt: now - 60_000 }), quiet, now).holds).toBe(false);
  });

  it("task failures count crashes in the window, and a failed deployment holds at once", () => {
    const f = facts({ failures: [now - 10_000, now - 20_000, now - 30_000, now - 900_000] });
    expect(observe(rule({ condition: "task_failures", threshold: 2, forSeconds: 600 }), f, now)).toEqual({ value: 3, holds: true });
    expect(observe(rule({ condition: "task_failures", threshold: 3, forSeconds: 600 }), f, now).holds).toBe(false);
    expect(observe(rule({ condition: "task_failures", threshold: 3, forSeconds: 600 }), facts({ actualState: "failed" }), now).holds).toBe(true);
  });

  it("reconciliation mismatches in the window", () => {
    expect(observe(rule({ condition: "reconciliation_mismatch", forSeconds: 600 }), facts({ mismatchedMinutes: [minute(3)] }), now)).toEqual({ value: 1, holds: true });
    expect(observe(rule({ condition: "reconciliation_mismatch", forSeconds: 600 }), facts({ mismatchedMinutes: [minute(30)] }), now)).toEqual({ value: 0, holds: false });
  });

  it("streams: no input counts the seconds since the offsets last moved; throughput is the rate between rounds", () => {
    const first = observe(rule({ condition: "no_input", forSeconds: 60 }), { kind: "stream", high: 10 }, now);
    expect(first).toEqual({ value: 0, holds: false, memory: { high: 10, at: now, changedAt: now } });
    const later = observe(rule({ condition: "no_input", forSeconds: 60, memory: first.memory }), { kind: "stream", high: 10 }, now + 61_000);
    expect(later).toMatchObject({ value: 61, holds: true });
    const rate = observe(rule({ condition: "throughput_below", threshold: 5, memory: { high: 10, at: now, changedAt: now } }), { kind: "stream", high: 40 }, now + 10_000);
    expect(rate).toMatchObject({ value: 3, holds: true });
    expect(observe(rule({ condition: "throughput_below", threshold: 5 }), { kind: "stream", high: 40 }, now)).toMatchObject({ value: null, holds: null });
  });
});
