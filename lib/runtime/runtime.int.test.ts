import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import * as pipelinesRoute from "@/app/api/v1/teams/[team]/pipelines/route";
import * as versionsRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/versions/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import * as resumeRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/resume/route";
import * as statusRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/status/route";
import { clickhouse, closeClickHouse } from "@/lib/clickhouse/client";
import { migrateClickHouse } from "@/lib/clickhouse/migrate";
import { closeKafka } from "@/lib/kafka/shared";
import { nodeCounts } from "@/lib/metrics/node-metrics";
import { checkMinute, flowGraphOf, type Counts } from "@/lib/metrics/reconciliation";
import { createRedis } from "@/lib/redis/client";
import { startReconciler } from "@/lib/runtime/reconciler";
import { startTaskProcessor, type TaskProcessor } from "@/lib/runtime/task-processor";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import * as functionsRoute from "@/app/api/v1/teams/[team]/functions/route";
import * as pipelineRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/route";
import { call, createPipelineWithVersion, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";

const hasKafka = !!process.env.KAFKA_BROKERS;
let user: TestUser;
let team: string;
let processor: TaskProcessor;
let reconciler: { close(): Promise<void> };
const redis = hasKafka ? createRedis() : undefined;

const clickSchema = [
  { name: "user_id", type: "string" },
  { name: "amount", type: "float" },
  { name: "country", type: "string" },
];

beforeAll(async () => {
  if (!hasKafka) return;
  await migrateClickHouse(clickhouse());
  user = await signUp();
  team = uniqueName("rt");
  await call(teams.POST, { caller: user, body: { name: "Runtime", slug: team } });
  processor = startTaskProcessor({ workerId: "test-worker", slots: 8, redis: redis! });
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

async function stream(name: string, partitions: number, schema: unknown) {
  const r = await call(streamsRoute.POST, { caller: user, params: { team }, body: { name, layer: "ODS", partitions, schema } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}

async function produce(name: string, records: { key?: string; value: unknown }[]) {
  const r = await call(recordsRoute.POST, { caller: user, params: { team, stream: name }, body: { records } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

async function readAll(name: string, partitions: number): Promise<{ value: any; key: string | null }[]> {
  const out: { value: any; key: string | null }[] = [];
  for (let p = 0; p < partitions; p++) {
    const r = await call(recordsRoute.GET, { caller: user, params: { team, stream: name }, path: `/?partition=${p}&fromOffset=0&limit=1000` });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    out.push(...r.body.records);
  }
  return out;
}

async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last value ${JSON.stringify(last).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await fn();
  }
  return last;
}

function filterProjectPipeline(source: string, sink: string) {
  return {
    version: 1,
    nodes: [
      { id: "src", type: "source", config: { stream: source }, position: { x: 0, y: 0 } },
      { id: "big", type: "filter", config: { predicate: "amount > 10.0" }, position: { x: 200, y: 0 } },
      { id: "shape", type: "projection", config: { fields: [{ name: "user", from: "user_id" }, { name: "doubled", expr: "amount * 2.0" }] }, position: { x: 400, y: 0 } },
      { id: "out", type: "sink", config: { stream: sink }, position: { x: 600, y: 0 } },
    ],
    edges: [
      { source: "src", target: "big" },
      { source: "big", target: "shape" },
      { source: "shape", target: "out" },
    ],
  };
}

const expectedOf = (records: { value: { user_id: string; amount: number } }[]) =>
  records.filter((r) => r.value.amount > 10).map((r) => ({ user: r.value.user_id, doubled: r.value.amount * 2 }));
const sortRows = (rows: { user: string; doubled: number }[]) => [...rows].sort((a, b) => a.user.localeCompare(b.user) || a.doubled - b.doubled);

describe.skipIf(!hasKafka)("pipeline runtime", () => {
  it.each(["at_least_once", "exactly_once"] as const)(
    "Source → Filter → Projection → Sink produces exactly the expected records (%s), dead-letters bad ones, stops and resumes without gap or overlap",
    async (guarantee) => {
      const src = `ods.${uniqueName("clicks")}`;
      const sink = `dwd.${uniqueName("big")}`;
      await stream(src, 2, clickSchema);
      await stream(sink, 1, [{ name: "user", type: "string" }, { name: "doubled", type: "float" }]);
      const first = Array.from({ length: 40 }, (_, i) => ({ key: `u${i % 5}`, value: { user_id: `u${i}`, amount: i * 1.5, country: i % 2 ? "SE" : "DE" } }));
      await produce(src, first);

      const name = uniqueName("p");
      await createPipelineWithVersion(user, team, name, filterProjectPipeline(src, sink), "first");
      const dep = await call(deployRoute.POST, { caller: user, params: { team, pipeline: name }, body: { parallelism: 2, deliveryGuarantee: guarantee } });
      expect(dep.status, JSON.stringify(dep.body)).toBe(200);

      const expectedFirst = expectedOf(first);
      const out1 = await waitFor("first output", () => readAll(sink, 1), (rows) => rows.length >= expectedFirst.length);
      expect(sortRows(out1.map((r) => r.value))).toEqual(sortRows(expectedFirst));

      const status = await waitFor("running status", async () => (await call(statusRoute.GET, { caller: user, params: { team, pipeline: name } })).body, (s) => s.actualState === "running");
      expect(status.tasks).toHaveLength(2);
      expect(status.tasks.map((t: { partitions: Record<string, number[]> }) => t.partitions[src]).sort()).toEqual([[0], [1]]);

      // Stop: tasks leave at a committed point; records produced meanwhile wait for the resume.
      expect((await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } })).status).toBe(200);
      await waitFor("stopped", async () => (await call(statusRoute.GET, { caller: user, params: { team, pipeline: name } })).body, (s) => s.actualState === "stopped", 15_000);
      const second = Array.from({ length: 20 }, (_, i) => ({ value: { user_id: `v${i}`, amount: 5 + i, country: "FR" } }));
      await produce(src, second);
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await readAll(sink, 1)).length).toBe(expectedFirst.length);

      expect((await call(resumeRoute.POST, { caller: user, params: { team, pipeline: name } })).status).toBe(200);
      const expectedAll = [...expectedFirst, ...expectedOf(second)];
      const out2 = await waitFor("output after resume", () => readAll(sink, 1), (rows) => rows.length >= expectedAll.length);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(sortRows((await readAll(sink, 1)).map((r) => r.value))).toEqual(sortRows(expectedAll));
      expect(out2.length).toBe(expectedAll.length);
      await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } });
    },
    90_000,
  );

  it("keeps a Window watermark per source partition: a partition behind the others is not late, a quiet input moves on with idleTimeout", async () => {
    const src = `ods.${uniqueName("events")}`;
    const sink = `dws.${uniqueName("counts")}`;
    await stream(src, 2, [{ name: "ts", type: "timestamp" }, { name: "user", type: "string" }]);
    await stream(sink, 1, [{ name: "user", type: "string" }, { name: "window_start", type: "timestamp" }, { name: "window_end", type: "timestamp" }, { name: "n", type: "int" }]);
    const name = uniqueName("w");
    const def = {
      version: 1,
      nodes: [
        { id: "src", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
        { id: "win", type: "window", config: { window: { kind: "tumbling", size: "10s" }, timeField: "ts", keys: [{ name: "user", expr: "user" }], aggregates: [{ name: "n", fn: "count" }], idleTimeout: "2s" }, position: { x: 200, y: 0 } },
        { id: "out", type: "sink", config: { stream: sink }, position: { x: 400, y: 0 } },
      ],
      edges: [{ source: "src", target: "win" }, { source: "win", target: "out" }],
    };
    await createPipelineWithVersion(user, team, name, def);
    expect((await call(deployRoute.POST, { caller: user, params: { team, pipeline: name }, body: { parallelism: 1, deliveryGuarantee: "exactly_once" } })).status).toBe(200);
    await waitFor("running", async () => (await call(statusRoute.GET, { caller: user, params: { team, pipeline: name } })).body, (s) => s.actualState === "running");
    const at = (partition: number, ts: number) => produce(src, [{ value: { ts, user: "a" } }].map((r) => ({ ...r, partition })) as never);
    // Partition 1 is behind: its records are 90 s older than partition 0's.
    await at(1, 5_000);
    await new Promise((r) => setTimeout(r, 700));
    await at(0, 100_000);
    await new Promise((r) => setTimeout(r, 700));
    await at(1, 8_000);
    // One watermark for both partitions would have closed [0, 10 s) at 100 s and
    // made 8 s late (n = 1). Per partition, both count. Then both partitions are
    // quiet: a silent partition never moves the watermark past another, but the
    // node's idleTimeout (2 s) moves a quiet input on with processing time, from
    // the slower partition, so [0, 10 s) closes.
    const first = await waitFor("first window", () => readAll(sink, 1), (r) => r.length >= 1, 30_000);
    expect(first.map((r) => r.value)).toEqual([{ user: "a", window_start: 0, window_end: 10_000, n: 2 }]);
    // Records far ahead in both partitions close [100 s, 110 s).
    await at(0, 1_000_000);
    await at(1, 1_000_000);
    const rows = await waitFor("window results", () => readAll(sink, 1), (r) => r.length >= 2, 30_000);
    expect(rows.map((r) => r.value).sort((x, y) => x.window_start - y.window_start)).toEqual([
      { user: "a", window_start: 0, window_end: 10_000, n: 2 },
      { user: "a", window_start: 100_000, window_end: 110_000, n: 1 },
    ]);
    await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } });
  }, 90_000);

  it("sends undecodable records to the dead-letter stream with the reason and keeps running", async () => {
    const src = `ods.${uniqueName("raw")}`;
    const sink = `dwd.${uniqueName("clean")}`;
    await stream(src, 1, clickSchema);
    await stream(sink, 1, [{ name: "user", type: "string" }, { name: "doubled", type: "float" }]);
    const name = uniqueName("dlq");
    await createPipelineWithVersion(user, team, name, filterProjectPipeline(src, sink));
    expect((await call(deployRoute.POST, { caller: user, params: { team, pipeline: name }, body: {} })).status).toBe(200);

    // Bypass the API's schema check to produce garbage, as a foreign producer could.
    const { kafkaProducer } = await import("@/lib/kafka/shared");
    await (await kafkaProducer()).send({
      topic: src,
      acks: -1,
      messages: [{ value: "{not json" }, { value: JSON.stringify({ user_id: "ok", amount: 50, country: "SE" }) }, { value: JSON.stringify({ user_id: 7, amount: "lots", country: "SE" }) }],
    });

    const out = await waitFor("good record", () => readAll(sink, 1), (r) => r.length >= 1);
    expect(out.map((r) => r.value)).toEqual([{ user: "ok", doubled: 100 }]);
    const dlq = await waitFor("dead letters", () => readAll(`dlq.${team}.${name}`, 1), (r) => r.length >= 2);
    expect(dlq).toHaveLength(2);
    expect(dlq[0].value.reason).toMatch(/JSON|decode|parse/i);
    expect(Buffer.from(dlq[0].value.original, "base64").toString()).toBe("{not json");
    expect(dlq[0].value.source).toMatchObject({ topic: src, partition: 0, offset: "0" });
    expect(dlq[1].value.reason).toContain(`does not match the schema of stream "${src}"`);
    expect(dlq[1].value.reason).toContain("user_id: expected string, got number");
    expect(dlq[1].value).toMatchObject({ nodeId: "src", source: { offset: "2" } });
    await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } });

    // Reconciliation: every node's records in = out + filtered + errored, and each edge delivers what it carries.
    const deploymentId = (await call(statusRoute.GET, { caller: user, params: { team, pipeline: name } })).body.deploymentId;
    const rows = await waitFor("metrics", () => nodeCounts(clickhouse(), deploymentId, 0, 2 ** 31), (rs) => rs.filter((r) => r.nodeId === "src").reduce((n, r) => n + r.in, 0) === 3, 20_000);
    const totals = new Map<string, Counts>();
    for (const r of rows) {
      const t = totals.get(r.nodeId) ?? { in: 0, out: 0, filtered: 0, errored: 0, late: 0 };
      totals.set(r.nodeId, { in: t.in + r.in, out: t.out + r.out, filtered: t.filtered + r.filtered, errored: t.errored + r.errored, late: t.late + r.late });
    }
    expect(totals.get("src")).toEqual({ in: 3, out: 1, filtered: 0, errored: 2, late: 0 });
    expect(checkMinute(flowGraphOf(filterProjectPipeline(src, sink)), totals, 1)).toEqual([]);
  }, 60_000);

  it("Split routes by first match with an else output, and Union merges branches naming their source", async () => {
    const src = `ods.${uniqueName("orders")}`;
    const high = `dwd.${uniqueName("high")}`;
    const rest = `dwd.${uniqueName("rest")}`;
    await stream(src, 1, clickSchema);
    await stream(high, 1, clickSchema);
    await stream(rest, 1, [...clickSchema, { name: "band", type: "string" }]);
    const pipeline = {
      version: 1,
      nodes: [
        { id: "src", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
        { id: "route", type: "split", config: { outputs: [{ name: "high", condition: "amount > 20.0" }, { name: "mid", condition: "amount > 10.0" }], mode: "first", unmatched: "else" }, position: { x: 1, y: 0 } },
        { id: "merge", type: "union", config: { sourceField: "band" }, position: { x: 2, y: 1 } },
        { id: "hi", type: "sink", config: { stream: high }, position: { x: 3, y: 0 } },
        { id: "lo", type: "sink", config: { stream: rest }, position: { x: 3, y: 1 } },
      ],
      edges: [
        { source: "src", target: "route" },
        { source: "route", sourcePort: "high", target: "hi" },
        { source: "route", sourcePort: "mid", target: "merge", targetPort: "mid" },
        { source: "route", sourcePort: "else", target: "merge", targetPort: "low" },
        { source: "merge", target: "lo" },
      ],
    };
    const name = uniqueName("split");
    await createPipelineWithVersion(user, team, name, pipeline);
    expect((await call(deployRoute.POST, { caller: user, params: { team, pipeline: name }, body: { deliveryGuarantee: "exactly_once" } })).status).toBe(200);
    const amounts = [5, 15, 25, 30, 10, 11, 0.5, 21];
    await produce(src, amounts.map((a, i) => ({ value: { user_id: `u${i}`, amount: a, country: "SE" } })));
    const hi = await waitFor("high", () => readAll(high, 1), (r) => r.length >= 3);
    const lo = await waitFor("rest", () => readAll(rest, 1), (r) => r.length >= 5);
    expect(hi.map((r) => r.value.amount).sort((a: number, b: number) => a - b)).toEqual([21, 25, 30]);
    expect(lo.map((r) => [r.value.amount, r.value.band]).sort((a, b) => a[0] - b[0])).toEqual([[0.5, "low"], [5, "low"], [10, "low"], [11, "mid"], [15, "mid"]]);
    await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } });
  }, 60_000);

  it("runs a UDF from the function registry; a throwing call becomes a dead letter", async () => {
    const src = `ods.${uniqueName("u-src")}`;
    const sink = `dwd.${uniqueName("u-sink")}`;
    await stream(src, 1, clickSchema);
    await stream(sink, 1, [{ name: "user_id", type: "string" }, { name: "tier", type: "string" }]);
    const fn = await call(functionsRoute.POST, {
      caller: user,
      params: { team },
      body: { name: "tiering", form: "map", source: `(r) => { if (r.amount < 0) throw new Error("negative amount " + r.amount); return { user_id: r.user_id, tier: r.amount > 10 ? "gold" : "basic" }; }` },
    });
    expect(fn.status, JSON.stringify(fn.body)).toBe(201);
    const pipeline = {
      version: 1,
      nodes: [
        { id: "src", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
        { id: "tier", type: "udf", config: { function: { name: "tiering" }, outputSchema: [{ name: "user_id", type: "string" }, { name: "tier", type: "string" }] }, position: { x: 1, y: 0 } },
        { id: "out", type: "sink", config: { stream: sink }, position: { x: 2, y: 0 } },
      ],
      edges: [{ source: "src", target: "tier" }, { source: "tier", target: "out" }],
    };
    const name = uniqueName("udf");
    await createPipelineWithVersion(user, team, name, pipeline);
    expect((await call(deployRoute.POST, { caller: user, params: { team, pipeline: name }, body: {} })).status).toBe(200);
    await produce(src, [{ value: { user_id: "a", amount: 50, country: "SE" } }, { value: { user_id: "b", amount: -1, country: "SE" } }, { value: { user_id: "c", amount: 2, country: "SE" } }]);
    const out = await waitFor("udf output", () => readAll(sink, 1), (r) => r.length >= 2);
    expect(out.map((r) => r.value)).toEqual([{ user_id: "a", tier: "gold" }, { user_id: "c", tier: "basic" }]);
    const dlq = await waitFor("udf dead letter", () => readAll(`dlq.${team}.${name}`, 1), (r) => r.length >= 1);
    expect(dlq[0].value).toMatchObject({ nodeId: "tier" });
    expect(dlq[0].value.reason).toContain("negative amount -1");
    await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } });
  }, 60_000);

  it("stops a running pipeline with a clear state when its team loses read access to a source", async () => {
    const { prisma } = await import("@/lib/db/prisma");
    const src = `ods.${uniqueName("shared")}`;
    await stream(src, 1, clickSchema);
    await prisma().stream.update({ where: { name: src }, data: { visibility: "public" } });
    const reader = await signUp();
    const readerTeam = uniqueName("reader");
    await call(teams.POST, { caller: reader, body: { name: "Reader", slug: readerTeam } });
    const sink = `dwd.${uniqueName("copy")}`;
    expect((await call(streamsRoute.POST, { caller: reader, params: { team: readerTeam }, body: { name: sink, layer: "DWD", partitions: 1, schema: [{ name: "user", type: "string" }, { name: "doubled", type: "float" }] } })).status).toBe(201);
    const name = uniqueName("consumer");
    await createPipelineWithVersion(reader, readerTeam, name, filterProjectPipeline(src, sink));
    expect((await call(deployRoute.POST, { caller: reader, params: { team: readerTeam, pipeline: name }, body: {} })).status).toBe(200);
    await waitFor("running", async () => (await call(statusRoute.GET, { caller: reader, params: { team: readerTeam, pipeline: name } })).body, (s) => s.actualState === "running");

    await prisma().stream.update({ where: { name: src }, data: { visibility: "private" } });
    const status = await waitFor("failed", async () => (await call(statusRoute.GET, { caller: reader, params: { team: readerTeam, pipeline: name } })).body, (s) => s.actualState === "failed", 20_000);
    expect(status.desiredState).toBe("stopped");
    expect(status.lastError).toContain(src);
  }, 60_000);

  it("keeps another team's pipelines out of reach", async () => {
    const name = uniqueName("mine");
    await call(pipelinesRoute.POST, { caller: user, params: { team }, body: { name } });
    const other = await signUp();
    const otherTeam = uniqueName("other");
    await call(teams.POST, { caller: other, body: { name: "Other", slug: otherTeam } });
    for (const [fn, method] of [[pipelineRoute.GET, "GET"], [statusRoute.GET, "GET"], [deployRoute.POST, "POST"], [stopRoute.POST, "POST"]] as const) {
      const viaMyTeam = await call(fn as never, { method, caller: other, params: { team, pipeline: name }, ...(method === "POST" ? { body: {} } : {}) });
      expect(viaMyTeam.status).toBe(403);
      const viaOwnTeam = await call(fn as never, { method, caller: other, params: { team: otherTeam, pipeline: name }, ...(method === "POST" ? { body: {} } : {}) });
      expect(viaOwnTeam.status).toBe(404);
    }
    expect((await call(pipelinesRoute.GET, { caller: other, params: { team: otherTeam } })).body.pipelines).toEqual([]);
  });

  it("refuses to save an invalid version with the node diagnostics", async () => {
    const name = uniqueName("bad");
    await call(pipelinesRoute.POST, { caller: user, params: { team }, body: { name } });
    const p = filterProjectPipeline("ods.does-not-exist", "dwd.nor-this");
    const res = await call(versionsRoute.POST, { caller: user, params: { team, pipeline: name }, body: { pipeline: p } });
    expect(res.status).toBe(422);
    expect(res.body.error.details.some((d: { nodeId?: string }) => d.nodeId === "src")).toBe(true);
  });
});
