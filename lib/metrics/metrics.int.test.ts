import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { clickhouse, closeClickHouse } from "@/lib/clickhouse/client";
import { migrateClickHouse } from "@/lib/clickhouse/migrate";
import { BatchWriter } from "./batch-writer";
import { minuteOf, reconciliation, type NodeMetricsRow } from "./node-metrics";

afterAll(() => closeClickHouse());

function row(deploymentId: string, nodeId: string, minuteMs: number, task: number, counts: Partial<NodeMetricsRow>): NodeMetricsRow {
  return {
    minute: minuteOf(minuteMs), deployment_id: deploymentId, pipeline_id: "p", node_id: nodeId, task_index: task,
    records_in: 0, records_out: 0, records_filtered: 0, records_errored: 0, records_late: 0, bytes_in: 0, bytes_out: 0, ...counts,
  };
}

describe("ClickHouse metrics", () => {
  it("applies migrations once", async () => {
    await migrateClickHouse(clickhouse());
    expect(await migrateClickHouse(clickhouse())).toEqual([]);
    const rs = await clickhouse().query({ query: "SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN ('node_metrics','task_metrics') ORDER BY name", format: "JSONEachRow" });
    expect((await rs.json<{ name: string }>()).map((r) => r.name)).toEqual(["node_metrics", "task_metrics"]);
  });

  it("sums partial flushes per node and minute across tasks and reports unaccounted records", async () => {
    await migrateClickHouse(clickhouse());
    const dep = `dep-${randomUUID()}`;
    const writer = new BatchWriter<NodeMetricsRow>(clickhouse(), { table: "node_metrics", flushIntervalMs: 50 });
    const t0 = Date.UTC(2026, 10, 22, 10, 0, 0);
    writer.write(row(dep, "filter", t0, 0, { records_in: 10, records_out: 7, records_filtered: 3 }));
    writer.write(row(dep, "filter", t0 + 5_000, 1, { records_in: 5, records_out: 4, records_errored: 1 }));
    await writer.flush();
    writer.write(row(dep, "filter", t0 + 30_000, 0, { records_in: 2, records_out: 1 })); // one record unaccounted
    writer.write(row(dep, "filter", t0 + 60_000, 0, { records_in: 1, records_out: 1 }));
    await writer.close();
    expect(writer.pending).toBe(0);
    const rec = await reconciliation(clickhouse(), dep);
    expect(rec).toEqual([
      { minute: "2026-11-22 10:00:00", nodeId: "filter", in: 17, out: 12, filtered: 3, errored: 1, unaccounted: 1 },
      { minute: "2026-11-22 10:01:00", nodeId: "filter", in: 1, out: 1, filtered: 0, errored: 0, unaccounted: 0 },
    ]);
  });
});
