import { randomUUID } from "node:crypto";
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@clickhouse/client";
import { afterAll, describe, expect, it } from "vitest";
import { clickhouse, closeClickHouse } from "@/lib/clickhouse/client";
import { migrateClickHouse } from "@/lib/clickhouse/migrate";
import { BatchWriter } from "./batch-writer";
import { minuteOf, nodeCounts, type NodeMetricsRow } from "./node-metrics";
import { partitionLagSeries, type PartitionLagRow } from "./partition-lag";
import { dropExpiredPartitions } from "./retention";
import { taskSeries, type TaskMetricsRow } from "./task-metrics";

afterAll(() => closeClickHouse());

function row(deploymentId: string, nodeId: string, minuteMs: number, task: number, counts: Partial<NodeMetricsRow>): NodeMetricsRow {
  return {
    minute: minuteOf(minuteMs), deployment_id: deploymentId, pipeline_id: "p", node_id: nodeId, task_index: task, version: 1,
    records_in: 0, records_out: 0, records_filtered: 0, records_errored: 0, records_late: 0, bytes_in: 0, bytes_out: 0, ...counts,
  };
}

const utc = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
const sec = (ms: number) => ms / 1000;

function sample(deploymentId: string, ms: number, task: number, s: Partial<TaskMetricsRow>): TaskMetricsRow {
  return {
    ts: utc(ms), ts_ms: ms, deployment_id: deploymentId, pipeline_id: "p", stage: "main", task_index: task, worker_id: "w",
    batches: 0, records_in: 0, records_out: 0, batch_ms_avg: 0, batch_ms_p50: 0, batch_ms_max: 0, consumer_lag: 0, event_time_lag_ms: 0, window_open: 0, ...s,
  };
}

describe("ClickHouse metrics", () => {
  it("applies migrations once", async () => {
    await migrateClickHouse(clickhouse());
    expect(await migrateClickHouse(clickhouse())).toEqual([]);
    const rs = await clickhouse().query({ query: "SELECT name FROM system.tables WHERE database = currentDatabase() AND (name LIKE '%metrics%' OR name LIKE 'partition_lag%') ORDER BY name", format: "JSONEachRow" });
    expect((await rs.json<{ name: string }>()).map((r) => r.name)).toEqual([
      "node_metrics", "node_metrics_hourly", "node_metrics_hourly_mv", "partition_lag", "partition_lag_hourly", "partition_lag_hourly_mv", "task_metrics", "task_metrics_hourly", "task_metrics_hourly_mv",
    ]);
  });

  it("sums partial flushes per node and minute across tasks, and rolls them up per hour", async () => {
    await migrateClickHouse(clickhouse());
    const dep = `dep-${randomUUID()}`;
    const writer = new BatchWriter<NodeMetricsRow>(clickhouse(), { table: "node_metrics", flushIntervalMs: 50 });
    const t0 = Date.UTC(2026, 10, 22, 10, 0, 0);
    writer.write(row(dep, "filter", t0, 0, { records_in: 10, records_out: 7, records_filtered: 3 }));
    writer.write(row(dep, "filter", t0 + 5_000, 1, { records_in: 5, records_out: 4, records_errored: 1 }));
    await writer.flush();
    writer.write(row(dep, "filter", t0 + 30_000, 0, { records_in: 2, records_out: 1 }));
    writer.write(row(dep, "filter", t0 + 60_000, 0, { records_in: 1, records_out: 1, records_late: 2 }));
    writer.write(row(dep, "filter", t0 + 3_600_000, 0, { records_in: 4, records_out: 4 }));
    await writer.close();
    expect(writer.pending).toBe(0);
    const minutes = await nodeCounts(clickhouse(), dep, sec(t0), sec(t0 + 7_200_000));
    expect(minutes).toEqual([
      { t: sec(t0), nodeId: "filter", version: 1, in: 17, out: 12, filtered: 3, errored: 1, late: 0 },
      { t: sec(t0 + 60_000), nodeId: "filter", version: 1, in: 1, out: 1, filtered: 0, errored: 0, late: 2 },
      { t: sec(t0 + 3_600_000), nodeId: "filter", version: 1, in: 4, out: 4, filtered: 0, errored: 0, late: 0 },
    ]);
    const hours = await nodeCounts(clickhouse(), dep, sec(t0), sec(t0 + 7_200_000), true);
    expect(hours).toEqual([
      { t: sec(t0), nodeId: "filter", version: 1, in: 18, out: 13, filtered: 3, errored: 1, late: 2 },
      { t: sec(t0 + 3_600_000), nodeId: "filter", version: 1, in: 4, out: 4, filtered: 0, errored: 0, late: 0 },
    ]);
  });

  it("folds task samples and partition lags per minute and per hour", async () => {
    await migrateClickHouse(clickhouse());
    const dep = `dep-${randomUUID()}`;
    const t0 = Date.UTC(2026, 10, 23, 8, 0, 0);
    const tasks = new BatchWriter<TaskMetricsRow>(clickhouse(), { table: "task_metrics" });
    tasks.write([
      sample(dep, t0 + 5_000, 0, { batches: 2, batch_ms_p50: 4, batch_ms_max: 9, consumer_lag: 100, event_time_lag_ms: 300, window_open: 5 }),
      sample(dep, t0 + 10_000, 0, { batches: 6, batch_ms_p50: 8, batch_ms_max: 12, consumer_lag: 40, event_time_lag_ms: 200, window_open: 7 }),
      sample(dep, t0 + 10_000, 1, { batches: 0, consumer_lag: 10, window_open: 1 }),
      sample(dep, t0 + 65_000, 0, { batches: 1, batch_ms_p50: 2, batch_ms_max: 2, consumer_lag: 0 }),
    ]);
    await tasks.close();
    const perMinute = await taskSeries(clickhouse(), dep, sec(t0), sec(t0 + 120_000));
    // Lag and open windows: each task's newest sample, summed; batch time: the batch-weighted median.
    expect(perMinute).toEqual([
      { t: sec(t0), batches: 8, consumerLag: 50, eventTimeLagMs: 300, batchMsP50: 7, batchMsMax: 12, windowOpen: 8 },
      { t: sec(t0 + 60_000), batches: 1, consumerLag: 0, eventTimeLagMs: 0, batchMsP50: 2, batchMsMax: 2, windowOpen: 0 },
    ]);
    const perHour = await taskSeries(clickhouse(), dep, sec(t0), sec(t0 + 3_600_000), true);
    expect(perHour).toEqual([{ t: sec(t0), batches: 9, consumerLag: 110, eventTimeLagMs: 300, batchMsP50: (4 + 8 + 2) / 3, batchMsMax: 12, windowOpen: 8 }]);

    const lags = new BatchWriter<PartitionLagRow>(clickhouse(), { table: "partition_lag" });
    lags.write([
      { ts: utc(t0 + 5_000), deployment_id: dep, pipeline_id: "p", task_index: 0, topic: "clicks", partition: 0, consumer_lag: 70 },
      { ts: utc(t0 + 10_000), deployment_id: dep, pipeline_id: "p", task_index: 0, topic: "clicks", partition: 0, consumer_lag: 30 },
      { ts: utc(t0 + 10_000), deployment_id: dep, pipeline_id: "p", task_index: 1, topic: "clicks", partition: 1, consumer_lag: 10 },
    ]);
    await lags.close();
    expect(await partitionLagSeries(clickhouse(), dep, sec(t0), sec(t0 + 60_000))).toEqual([
      { t: sec(t0), topic: "clicks", partition: 0, lag: 30 },
      { t: sec(t0), topic: "clicks", partition: 1, lag: 10 },
    ]);
    expect(await partitionLagSeries(clickhouse(), dep, sec(t0), sec(t0 + 3_600_000), true)).toEqual([
      { t: sec(t0), topic: "clicks", partition: 0, lag: 70 },
      { t: sec(t0), topic: "clicks", partition: 1, lag: 10 },
    ]);
  });

  it("keeps the tasks of different stages apart (task 0 of each stage is its own series)", async () => {
    await migrateClickHouse(clickhouse());
    const dep = `dep-${randomUUID()}`;
    const t0 = Date.UTC(2026, 10, 24, 8, 0, 0);
    const tasks = new BatchWriter<TaskMetricsRow>(clickhouse(), { table: "task_metrics" });
    tasks.write([
      sample(dep, t0 + 5_000, 0, { batches: 3, consumer_lag: 20, window_open: 0 }),
      sample(dep, t0 + 6_000, 0, { stage: "w", batches: 2, consumer_lag: 7, window_open: 40 }),
      // The main stage's newest sample is later than the Window stage's: it must not hide it.
      sample(dep, t0 + 9_000, 0, { batches: 1, consumer_lag: 10, window_open: 0 }),
    ]);
    await tasks.close();
    expect(await taskSeries(clickhouse(), dep, sec(t0), sec(t0 + 60_000))).toEqual([
      { t: sec(t0), batches: 6, consumerLag: 17, eventTimeLagMs: 0, batchMsP50: 0, batchMsMax: 0, windowOpen: 40 },
    ]);
    expect(await taskSeries(clickhouse(), dep, sec(t0), sec(t0 + 3_600_000), true)).toEqual([
      { t: sec(t0), batches: 6, consumerLag: 27, eventTimeLagMs: 0, batchMsP50: 0, batchMsMax: 0, windowOpen: 40 },
    ]);
  });

  it("migrates task samples and their hourly rollup written before stages existed into the main stage", async () => {
    const db = `stage_migration_${randomUUID().replace(/-/g, "")}`;
    await clickhouse().command({ query: `CREATE DATABASE ${db}` });
    const ch = createClient({ url: process.env.CLICKHOUSE_URL, database: db });
    const before = mkdtempSync(join(tmpdir(), "ch-migrations-"));
    try {
      const all = fileURLToPath(new URL("../clickhouse/migrations", import.meta.url));
      for (const f of readdirSync(all).filter((f) => f < "0003")) copyFileSync(join(all, f), join(before, f));
      await migrateClickHouse(ch, before);
      const t0 = Date.UTC(2026, 10, 25, 8, 0, 0);
      const old = (ms: number, task: number, lag: number) => {
        const { stage: _stage, ...row } = sample("dep-old", ms, task, { batches: 2, batch_ms_p50: 5, consumer_lag: lag, window_open: 3 });
        return row;
      };
      await ch.insert({ table: "task_metrics", values: [old(t0 + 1_000, 0, 50), old(t0 + 2_000, 1, 8)], format: "JSONEachRow" });
      expect(await migrateClickHouse(ch)).toEqual(["0003_task_metrics_stage.sql"]);
      const rs = await ch.query({ query: "SELECT stage, task_index, consumer_lag FROM task_metrics ORDER BY task_index", format: "JSONEachRow" });
      expect(await rs.json()).toEqual([{ stage: "main", task_index: 0, consumer_lag: "50" }, { stage: "main", task_index: 1, consumer_lag: "8" }]);
      // The hourly states came across, and the new view adds to them.
      await ch.insert({ table: "task_metrics", values: [sample("dep-old", t0 + 3_000, 0, { stage: "w", batches: 1, batch_ms_p50: 5, consumer_lag: 5, window_open: 9 })], format: "JSONEachRow" });
      expect(await taskSeries(ch, "dep-old", sec(t0), sec(t0 + 3_600_000), true)).toEqual([
        { t: sec(t0), batches: 5, consumerLag: 63, eventTimeLagMs: 0, batchMsP50: 5, batchMsMax: 0, windowOpen: 15 },
      ]);
    } finally {
      rmSync(before, { recursive: true, force: true });
      await ch.command({ query: `DROP DATABASE ${db}` });
      await ch.close();
    }
  });

  it("drops partitions older than the retention and keeps the rest", async () => {
    // Its own database: dropping "everything older than N days" must not touch other tests' rows.
    const db = `retention_${randomUUID().replace(/-/g, "")}`;
    await clickhouse().command({ query: `CREATE DATABASE ${db}` });
    const ch = createClient({ url: process.env.CLICKHOUSE_URL, database: db });
    try {
    await migrateClickHouse(ch);
    const dep = `dep-${randomUUID()}`;
    const now = Date.UTC(2031, 5, 15, 12);
    const old = Date.UTC(2031, 4, 1, 10); // 45 days before `now`
    const recent = Date.UTC(2031, 5, 10, 10);
    const writer = new BatchWriter<NodeMetricsRow>(ch, { table: "node_metrics" });
    writer.write([row(dep, "n", old, 0, { records_in: 1, records_out: 1 }), row(dep, "n", recent, 0, { records_in: 2, records_out: 2 })]);
    await writer.close();
    const dropped = await dropExpiredPartitions(ch, { now, rawDays: 30, rollupDays: 400 });
    expect(dropped).toContainEqual({ table: "node_metrics", partition: "20310501" });
    expect(dropped.some((p) => p.partition === "20310610")).toBe(false);
    expect(dropped.some((p) => p.table === "node_metrics_hourly")).toBe(false);
    const left = await nodeCounts(ch, dep, sec(old) - 86_400, sec(now));
    expect(left.map((r) => r.in)).toEqual([2]);
    // The hourly rollup keeps the old hour for long-range charts.
    expect((await nodeCounts(ch, dep, sec(old) - 86_400, sec(now), true)).map((r) => r.in)).toEqual([1, 2]);
    } finally {
      await ch.close();
      await clickhouse().command({ query: `DROP DATABASE ${db}` });
    }
  });
});
