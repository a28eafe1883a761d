import { describe, expect, it } from "vitest";
import { expiredPartitions, partitionEnd } from "./retention";

describe("metrics retention", () => {
  it("knows where day and month partitions end", () => {
    expect(partitionEnd("20261104")).toBe(Date.UTC(2026, 10, 5));
    expect(partitionEnd("20261231")).toBe(Date.UTC(2027, 0, 1));
    expect(partitionEnd("202612")).toBe(Date.UTC(2027, 0, 1));
    expect(partitionEnd("tuple()")).toBeUndefined();
    expect(partitionEnd("1; DROP")).toBeUndefined();
  });

  it("drops only partitions wholly older than the retention of their table", () => {
    const now = Date.UTC(2026, 11, 4, 12);
    const parts = [
      { table: "node_metrics", partition: "20261103" }, // ended Nov 4 00:00, 30.5 days ago
      { table: "node_metrics", partition: "20261104" }, // ends Nov 5: 29.5 days ago, kept
      { table: "task_metrics", partition: "20261001" },
      { table: "node_metrics_hourly", partition: "202611" }, // ended Dec 1: kept with 30-day rollups
      { table: "node_metrics_hourly", partition: "202610" }, // ended Nov 1: 33.5 days ago
      { table: "sluice_migrations", partition: "20200101" }, // not a metrics table
    ];
    expect(expiredPartitions(parts, { now, rawDays: 30, rollupDays: 30 })).toEqual([
      { table: "node_metrics", partition: "20261103" },
      { table: "task_metrics", partition: "20261001" },
      { table: "node_metrics_hourly", partition: "202610" },
    ]);
    expect(expiredPartitions(parts, { now, rawDays: 30, rollupDays: 400 }).map((p) => p.table)).toEqual(["node_metrics", "task_metrics"]);
  });
});
