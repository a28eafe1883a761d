import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import * as statusRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/status/route";
import * as metricsRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/metrics/route";
import * as reconciliationRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/reconciliation/route";
import { clickhouse, closeClickHouse } from "@/lib/clickhouse/client";
import { migrateClickHouse } from "@/lib/clickhouse/migrate";
import { closeKafka } from "@/lib/kafka/shared";
import { BatchWriter } from "@/lib/metrics/batch-writer";
import { minuteOf, type NodeMetricsRow } from "@/lib/metrics/node-metrics";
import { createRedis } from "@/lib/redis/client";
import { startReconciler } from "@/lib/runtime/reconciler";
import { startTaskProcessor, type TaskProcessor } from "@/lib/runtime/task-processor";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { writeTaskState } from "@/lib/runtime/task-state";
import { call, createPipelineWithVersion, signUp, uniqueName, waitFor, type TestUser } from "@/scripts/testing/api";
import { WorkerPool } from "@/scripts/testing/workers";
import * as fleetRoute from "@/app/api/v1/teams/[team]/monitor/route";
import * as prometheusRoute from "@/app/api/metrics/route";
import { resetOperationsEnv } from "@/lib/env/operations";

const hasKafka = !!process.env.KAFKA_BROKERS;
let user: TestUser;
let outsider: TestUser;
let team: string;
let processor: TaskProcessor;
let reconciler: { close(): Promise<void> };
const redis = hasKafka ? createRedis() : undefined;

const clickSchema = [
  { name: "user_id", type: "string" },
  { name: "amount", type: "float" },
];

beforeAll(async () => {
  if (!hasKafka) return;
  await migrateClickHouse(clickhouse());
  user = await signUp();
  outsider = await signUp();
  team = uniqueName("mon");
  expect((await call(teams.POST, { caller: user, body: { name: "Monitor", slug: team } })).status).toBe(201);
  processor = startTaskProcessor({ workerId: "monitor-test-worker", slots: 4, redis: redis! });
  reconciler = startReconciler(redis!, 500);
});

afterAll(async () => {
  await reconciler?.close();
  await processor?.close();
  await closeTaskQueue();
  await closeKafka();
  await closeClickHouse();
  redis?.disconnect();
});

async function stream(name: string, schema: unknown) {
  const r = await call(streamsRoute.POST, { caller: user, params: { team }, body: { name, layer: "ODS", partitions: 2, schema } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}


const pipelineDef = (source: string, sink: string) => ({
  version: 1,
  nodes: [
    { id: "src", type: "source", config: { stream: source }, position: { x: 0, y: 0 } },
    { id: "big", type: "filter", config: { predicate: "amount > 10.0" }, position: { x: 200, y: 0 } },
    // Dividing by (amount - 50) fails for amount == 50: a per-record error, dead-lettered.
    { id: "shape", type: "projection", config: { fields: [{ name: "user", from: "user_id" }, { name: "ratio", expr: "int(100.0 / (amount - 50.0))" }] }, position: { x: 400, y: 0 } },
    { id: "out", type: "sink", config: { stream: sink }, position: { x: 600, y: 0 } },
  ],
  edges: [
    { source: "src", target: "big" },
    { source: "big", target: "shape" },
    { source: "shape", target: "out" },
  ],
});

const reconcile = (name: string, query: string, caller = user) => call(reconciliationRoute.GET, { caller, params: { team, pipeline: name }, path: `/?${query}` });

describe.skipIf(!hasKafka)("monitor: reconciliation and metrics API", () => {
  let name: string;
  let deploymentId: string;
  let startedAt: number;

  it("balances every node and edge of a running pipeline; the open minute is pending, and settles once the pipeline stops", async () => {
    const src = `ods.${uniqueName("clicks")}`;
    const sink = `dwd.${uniqueName("shaped")}`;
    await stream(src, clickSchema);
    await stream(sink, [{ name: "user", type: "string" }, { name: "ratio", type: "int" }]);
    name = uniqueName("rec");
    await createPipelineWithVersion(user, team, name, pipelineDef(src, sink));
    startedAt = Date.now();
    expect((await call(deployRoute.POST, { caller: user, params: { team, pipeline: name }, body: {} })).status).toBe(200);
    deploymentId = (await call(statusRoute.GET, { caller: user, params: { team, pipeline: name } })).body.deploymentId;

    // 40 records: 10 filtered (amount ≤ 10), 2 dead-lettered in the projection (amount == 50), 28 written.
    const records = Array.from({ length: 40 }, (_, i) => ({ key: `u${i % 7}`, value: { user_id: `u${i}`, amount: i < 10 ? 5 : i < 12 ? 50 : 100 + i } }));
    expect((await call(recordsRoute.POST, { caller: user, params: { team, stream: src }, body: { records } })).status).toBe(200);

    const from = new Date(startedAt - 60_000).toISOString();
    const live = await waitFor("counts while running", () => reconcile(name, `from=${from}`), (r) => r.status === 200 && r.body.summary.reads === 40, 40_000);
    // The minute the records were processed in has not ended (or a task has not flushed past it): pending, never red.
    const newest = live.body.minutes.at(-1);
    expect(newest.status).toBe("pending");
    expect(live.body.summary.mismatched).toBe(0);

    expect((await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } })).status).toBe(200);
    const done = await waitFor("settled after stop", () => reconcile(name, `from=${from}`), (r) => r.body.summary.pending === 0, 30_000);
    expect(done.body.summary).toMatchObject({ reads: 40, written: 28, filtered: 10, deadLettered: 2, late: 0, mismatched: 0 });
    expect(done.body.minutes.length).toBeGreaterThan(0);
    for (const m of done.body.minutes) expect(m, JSON.stringify(m)).toMatchObject({ status: "balanced", problems: [] });
  }, 90_000);

  it("shows a minute with lost records in red with the node and the difference", async () => {
    // A ledger row for a minute where the filter took in 12 records but accounted for only 9.
    const at = Date.now() - 10 * 60_000;
    const base = { minute: minuteOf(at), deployment_id: deploymentId, pipeline_id: "p", task_index: 0, version: 1, records_errored: 0, records_late: 0, bytes_in: 0, bytes_out: 0 };
    const rows: NodeMetricsRow[] = [
      { ...base, node_id: "src", records_in: 12, records_out: 12, records_filtered: 0 },
      { ...base, node_id: "big", records_in: 12, records_out: 6, records_filtered: 3 },
      { ...base, node_id: "shape", records_in: 6, records_out: 6, records_filtered: 0 },
      { ...base, node_id: "out", records_in: 6, records_out: 6, records_filtered: 0 },
    ];
    const writer = new BatchWriter<NodeMetricsRow>(clickhouse(), { table: "node_metrics" });
    writer.write(rows);
    await writer.close();
    const r = await reconcile(name, `from=${at - 120_000}&to=${at + 60_000}`);
    expect(r.status).toBe(200);
    const minute = r.body.minutes.find((m: { minute: string }) => m.minute === new Date(Math.floor(at / 60_000) * 60_000).toISOString());
    expect(minute).toMatchObject({ status: "mismatch", reads: 12, written: 6, filtered: 3 });
    expect(minute.problems).toEqual([expect.objectContaining({ nodeId: "big", kind: "node", expected: 12, actual: 9, difference: 3, version: 1 })]);
    expect(r.body.summary.mismatched).toBe(1);
  });

  it("keeps minutes pending while a task is still flushing its counts", async () => {
    // A task in the middle of stopping that has flushed only up to 5 minutes ago.
    const flushed = Date.now() - 5 * 60_000;
    await writeTaskState(redis!, {
      deploymentId, taskIndex: 0, generation: 99, phase: "stopping", workerId: "w", startedAt: flushed - 60_000, heartbeatAt: Date.now(),
      partitions: {}, recordsIn: 0, recordsOut: 0, recordsErrored: 0, consumerLag: 0, recordsPerSec: 0, flushedThrough: flushed,
    });
    const r = await reconcile(name, `from=${startedAt - 60_000}`);
    expect(Date.parse(r.body.settledBefore)).toBeLessThanOrEqual(flushed);
    expect(r.body.minutes.length).toBeGreaterThan(0);
    for (const m of r.body.minutes) expect(m.status).toBe("pending");
  });

  it("serves the monitor's series: per node counts, task samples and partition lag on one time axis", async () => {
    const r = await call(metricsRoute.GET, { caller: user, params: { team, pipeline: name }, path: "/?range=1h" });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.range).toMatchObject({ step: 60, hourly: false });
    expect(r.body.t).toHaveLength(61);
    expect(r.body.nodes.map((n: { id: string; type: string }) => `${n.id}:${n.type}`)).toEqual(["src:source", "big:filter", "shape:projection", "out:sink"]);
    const sum = (xs: (number | null)[]) => xs.reduce<number>((a, b) => a + (b ?? 0), 0);
    const node = (id: string) => r.body.nodes.find((n: { id: string }) => n.id === id);
    // The pipeline's own 40 records, plus the forced-mismatch minute's 12.
    expect(sum(node("src").in)).toBe(52);
    expect(sum(node("shape").errored)).toBe(2);
    expect(sum(node("out").out)).toBe(34);
    expect(r.body.tasks.batches.some((b: number | null) => (b ?? 0) > 0)).toBe(true);
    expect(r.body.partitions.map((p: { key: string }) => p.key).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/^ods\..*\[0\]$/), expect.stringMatching(/^ods\..*\[1\]$/)]));
    expect(r.body.events.map((e: { kind: string }) => e.kind)).toEqual(["deploy", "stop"]);
    const week = await call(metricsRoute.GET, { caller: user, params: { team, pipeline: name }, path: "/?range=7d" });
    expect(week.body.range).toMatchObject({ step: 3600, hourly: true });
    expect(sum(week.body.nodes.find((n: { id: string }) => n.id === "src").in)).toBe(52);
  });

  it("lists the team's pipelines on the fleet page and shows a worker that died as dead within 10 s", async () => {
    const pool = new WorkerPool();
    try {
      pool.spawn("fleet-doomed");
      const fleet = () => call(fleetRoute.GET, { caller: user, params: { team } }).then((r) => r.body);
      const alive = await waitFor("the worker's first heartbeat", fleet, (f) => f.workers.some((w: { id: string; alive: boolean }) => w.id === "fleet-doomed" && w.alive), 60_000);
      const row = alive.workers.find((w: { id: string }) => w.id === "fleet-doomed");
      expect(row).toMatchObject({ host: expect.any(String), slots: 4 });
      expect(alive.pipelines.find((p: { name: string }) => p.name === name)).toMatchObject({ desiredState: "stopped", tasks: 0, sparkline: expect.any(Array) });
      const worker = pool.get("fleet-doomed")!;
      // Wait for a heartbeat that carries the process figures (they are measured between two heartbeats).
      await waitFor("process figures", fleet, (f) => f.workers.some((w: { id: string; rssBytes: number | null }) => w.id === "fleet-doomed" && (w.rssBytes ?? 0) > 0), 20_000);
      worker.process.kill("SIGKILL");
      const killedAt = Date.now();
      await waitFor("the worker shown dead", fleet, (f) => f.workers.some((w: { id: string; alive: boolean }) => w.id === "fleet-doomed" && !w.alive), 10_000);
      expect(Date.now() - killedAt).toBeLessThan(10_000);
    } finally {
      await pool.killAll();
    }
  }, 120_000);

  it("serves Prometheus metrics to the holder of the metrics token only", async () => {
    const scrape = async (authorization?: string) => {
      const res = await prometheusRoute.GET(new Request("http://localhost:3000/api/metrics", { headers: authorization ? { authorization } : {} }));
      return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
    };
    delete process.env.SLUICE_METRICS_TOKEN;
    resetOperationsEnv();
    expect((await scrape("Bearer anything")).status).toBe(404);
    process.env.SLUICE_METRICS_TOKEN = "a-scrape-token-of-24-chars";
    resetOperationsEnv();
    try {
      expect((await scrape()).status).toBe(401);
      expect((await scrape("Bearer a-scrape-token-of-24-charz")).status).toBe(401);
      const ok = await scrape("Bearer a-scrape-token-of-24-chars");
      expect(ok.status).toBe(200);
      expect(ok.type).toContain("text/plain");
      const labels = `team="${team}",pipeline="${name}"`;
      expect(ok.text).toContain("# TYPE sluice_node_records_total counter");
      // The pipeline's 40 records and the forced-mismatch minute's 12, from the hourly rollup.
      expect(ok.text).toContain(`sluice_node_records_total{${labels},node="src",outcome="in"} 52`);
      expect(ok.text).toContain(`sluice_node_records_total{${labels},node="shape",outcome="errored"} 2`);
      // Stopped, or "stopping" while the previous test's task state (a task still flushing) lives on.
      expect(ok.text).toMatch(new RegExp(`sluice_pipeline_state\\{${labels},state="(stopped|stopping)"\\} 1`));
      expect(ok.text).toContain(`sluice_pipeline_state{${labels},state="running"} 0`);
      expect(ok.text).toContain(`sluice_pipeline_up{${labels}} 0`);
      expect(ok.text).toMatch(/sluice_web_process_cpu_seconds_total/);
    } finally {
      delete process.env.SLUICE_METRICS_TOKEN;
      resetOperationsEnv();
    }
  });

  it("answers only members of the team", async () => {
    expect((await reconcile(name, "range=1h", outsider)).status).toBe(403);
    expect((await call(metricsRoute.GET, { caller: outsider, params: { team, pipeline: name }, path: "/?range=1h" })).status).toBe(403);
    expect((await reconcile(name, "range=3w")).status).toBe(422);
  });
});
