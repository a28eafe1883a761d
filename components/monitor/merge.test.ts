import { describe, expect, it } from "vitest";
import { mergeMetrics } from "./merge";
import type { MetricsResponse } from "./types";

const empty = (n: number) => new Array<number | null>(n).fill(null);
function metrics(t: number[], inValues: (number | null)[], lag: (number | null)[] = empty(t.length)): MetricsResponse {
  return {
    pipeline: "p", deploymentId: "d", range: { from: t[0], to: t[t.length - 1] + 60, step: 60, hourly: false }, t,
    nodes: [{ id: "src", type: "source", in: inValues, out: inValues, filtered: empty(t.length), errored: empty(t.length), late: empty(t.length) }],
    tasks: { consumerLag: lag, eventTimeLagMs: empty(t.length), batchMsP50: empty(t.length), batchMsMax: empty(t.length), windowOpen: empty(t.length), batches: empty(t.length) },
    partitions: [{ key: "s[0]", stream: "s", partition: 0, lag }],
    events: [],
  };
}

describe("monitor live merge", () => {
  it("replaces the newest minute, appends new ones and drops what slid out of the range", () => {
    const prev = metrics([0, 60, 120], [5, 6, 1], [1, 2, 3]);
    const next = metrics([120, 180], [7, 2], [9, 8]);
    const merged = mergeMetrics(prev, next, 60);
    expect(merged.t).toEqual([60, 120, 180]);
    expect(merged.nodes[0].in).toEqual([6, 7, 2]);
    expect(merged.tasks.consumerLag).toEqual([2, 9, 8]);
    expect(merged.partitions[0].lag).toEqual([2, 9, 8]);
    expect(merged.range.from).toBe(60);
  });

  it("keeps a node the newest buckets do not mention, with gaps for them", () => {
    const prev = metrics([0, 60], [1, 2]);
    const next = { ...metrics([60, 120], [3, 4]), nodes: [] };
    expect(mergeMetrics(prev, next, 0).nodes[0].in).toEqual([1, null, null]);
  });
});
