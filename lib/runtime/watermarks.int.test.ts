import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import * as statusRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/status/route";
import { clickhouse, closeClickHouse } from "@/lib/clickhouse/client";
import { migrateClickHouse } from "@/lib/clickhouse/migrate";
import { sql } from "@/lib/clickhouse/sql";
import { closeKafka, kafka, kafkaProducer } from "@/lib/kafka/shared";
import type { Row } from "@/lib/pipeline";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { call, createPipelineWithVersion, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";
import { byEventTime, clickKey, clickSchema, clicks, countKey, countSchema, multiset, readTopic, reference, windowCountPipeline, type Click } from "@/scripts/testing/window-workload";

/**
 * Issue 17 on the real broker with real worker processes: a Window on a
 * multi-partition source must give exactly what the single-process
 * reference gives (the same plan over the records in event-time order, same
 * bound) — counts and late records as multisets — whatever order the task
 * fetches the partitions in: a backlog produced before deploy, a live run, a
 * partition much slower than the others, a partition silent for a while that
 * then resumes, and a takeover after kill -9 in the middle of a backlog.
 * Status, ClickHouse and the sinks must agree on the rows written.
 */
const hasKafka = !!process.env.KAFKA_BROKERS;
const root = join(import.meta.dirname, "../..");
let user: TestUser;
let team: string;
const workers = new Set<ChildProcess>();
const byName = new Map<string, ChildProcess>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawnWorker(name: string, env: Record<string, string> = {}): ChildProcess {
  const w = spawn(process.execPath, ["--import", "tsx", join(root, "workers/task-worker.ts")], {
    cwd: root,
    env: { ...process.env, WORKER_NAME: name, WORKER_SLOTS: "4", LOG_LEVEL: "warn", ...env },
    stdio: "ignore",
  });
  workers.add(w);
  byName.set(name, w);
  w.on("exit", () => workers.delete(w));
  return w;
}

beforeAll(async () => {
  if (!hasKafka) return;
  await migrateClickHouse(clickhouse());
  user = await signUp();
  team = uniqueName("wm");
  await call(teams.POST, { caller: user, body: { name: "Watermarks", slug: team } });
  spawnWorker("wm-main");
});

afterAll(async () => {
  for (const w of workers) w.kill("SIGKILL");
  await closeTaskQueue();
  await closeKafka();
  await closeClickHouse();
});

/** Pipelines deployed by the running test: stopped afterwards even when it fails, so later tests get the workers. */
const deployed = new Set<string>();
afterEach(async () => {
  for (const name of deployed) await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } }).catch(() => undefined);
  deployed.clear();
});

const status = async (pipeline: string) => (await call(statusRoute.GET, { caller: user, params: { team, pipeline } })).body;

async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(last).slice(0, 400)}`);
    await sleep(250);
    last = await fn();
  }
  return last;
}

interface Setup {
  name: string;
  source: string;
  sink: string;
  lateSink: string;
  def: ReturnType<typeof windowCountPipeline>;
  partitions: number;
}

async function setup(prefix: string, partitions: number, opts: { idleTimeout?: string } = {}): Promise<Setup> {
  const source = `ods.${uniqueName(`${prefix}-clicks`)}`;
  const sink = `dws.${uniqueName(`${prefix}-counts`)}`;
  const lateSink = `dwd.${uniqueName(`${prefix}-late`)}`;
  for (const [name, layer, parts, schema] of [[source, "ODS", partitions, clickSchema], [sink, "DWS", 1, countSchema], [lateSink, "DWD", 1, clickSchema]] as const) {
    const r = await call(streamsRoute.POST, { caller: user, params: { team }, body: { name, layer, partitions: parts, schema } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
  const name = uniqueName(prefix);
  const def = windowCountPipeline({ source, sink, lateSink, size: "10s", bound: "5s", ...opts });
  await createPipelineWithVersion(user, team, name, def);
  return { name, source, sink, lateSink, def, partitions };
}

/** Each ad lives in one partition (ad-k → k mod 4), as a producer keyed by ad would place it. */
const partitionOf = (c: Click) => (c.ad!.startsWith("ad-") ? Number(c.ad!.slice(3)) % 4 : Number(c.ad!.split("-").at(-1)));

async function produce(topic: string, records: readonly Click[], partition: (c: Click) => number = partitionOf) {
  const producer = await kafkaProducer();
  for (let i = 0; i < records.length; i += 1_000) {
    await producer.send({ topic, acks: -1, messages: records.slice(i, i + 1_000).map((c) => ({ key: c.ad, value: JSON.stringify({ pad: null, ...c }), partition: partition(c) })) });
  }
}

async function deploy(s: Setup, guarantee: "exactly_once" | "at_least_once") {
  const r = await call(deployRoute.POST, { caller: user, params: { team, pipeline: s.name }, body: { parallelism: 1, deliveryGuarantee: guarantee } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  deployed.add(s.name);
}

const running = (s: Setup) => waitFor("task running", () => status(s.name), (b) => b.tasks?.[0]?.state === "running", 60_000);

/** One closing record per partition far past every window: the watermark (min over partitions) passes them all. */
const closers = (ts: number, partitions: number): Click[] => Array.from({ length: partitions }, (_, p) => ({ ad: `closer-${p}`, ts, seq: 1_000_000 + p }));
const closerPartition = (c: Click) => (c.ad!.startsWith("closer-") ? Number(c.ad!.slice(7)) : partitionOf(c));

/** Records far older than the watermark once everything above was processed: late in any order. */
const lateRecords = (base: number, n: number): Click[] => Array.from({ length: n }, (_, i) => ({ ad: `ad-${i % 8}`, ts: base - 500_000 + i, seq: 2_000_000 + i }));

/**
 * Waits until the sinks hold the reference's rows, gives duplicates time to
 * show, then compares both sinks with the reference exactly, as multisets.
 */
async function expectSinks(s: Setup, expected: { out: Row[]; late: Row[] }) {
  const k = kafka();
  await waitFor(
    "window output",
    async () => ({ out: (await readTopic(k, s.sink, 1)).length, late: (await readTopic(k, s.lateSink, 1)).length }),
    (n) => n.out >= expected.out.length && n.late >= expected.late.length,
    90_000,
  ).catch(async (e) => {
    const out = await readTopic(k, s.sink, 1);
    const missing = multiset(expected.out, countKey).filter((x) => !multiset(out, countKey).includes(x));
    throw new Error(`${(e as Error).message}; ${missing.length} expected rows missing, e.g. ${missing.slice(0, 5).join(", ")}; status ${JSON.stringify(await status(s.name)).slice(0, 600)}`);
  });
  await sleep(2_000);
  const out = await readTopic(k, s.sink, 1);
  const late = await readTopic(k, s.lateSink, 1);
  expect(multiset(out, countKey)).toEqual(multiset(expected.out, countKey));
  expect(multiset(late, clickKey)).toEqual(multiset(expected.late, clickKey));
}

/** Status (Redis), ClickHouse and the sinks agree on the rows written, including rows emitted on idle release. */
async function expectMetricsAgree(s: Setup, rows: { out: number; late: number }) {
  // The Window's stage writes the sinks (a Window pipeline runs in two stages: docs/runtime.md "Stages").
  const written = (st: { tasks?: { stage: string; recordsOut: number }[] }) => (st.tasks ?? []).filter((t) => t.stage === "w").reduce((n, t) => n + t.recordsOut, 0);
  const b = await waitFor("status out", () => status(s.name), (st) => written(st) === rows.out + rows.late, 10_000);
  expect(written(b)).toBe(rows.out + rows.late);
  const deploymentId = b.deploymentId as string;
  await call(stopRoute.POST, { caller: user, params: { team, pipeline: s.name } });
  await waitFor("stopped", () => status(s.name), (st) => st.actualState === "stopped", 30_000);
  const counted = async () => {
    const rs = await clickhouse().query({ query: sql`SELECT node_id, sum(records_out) AS n, sum(records_late) AS late FROM node_metrics WHERE deployment_id = ${deploymentId} GROUP BY node_id`, format: "JSONEachRow" });
    return Object.fromEntries((await rs.json<{ node_id: string; n: string; late: string }>()).map((r) => [r.node_id, { out: Number(r.n), late: Number(r.late) }]));
  };
  const m = await waitFor("node metrics", counted, (c) => c.out?.out === rows.out && c.late?.out === rows.late, 20_000);
  expect(m.w.late).toBe(rows.late);
}

describe.skipIf(!hasKafka)("Window watermarks on multi-partition sources (issue 17)", () => {
  const base = Date.UTC(2026, 11, 4, 10, 0, 0);
  const main = (seed: number, count = 4_000, pad?: number) => clicks({ count, perSecond: 20, jitterMs: 2_000, ads: 8, start: base, seed, pad });

  it("a 4-partition backlog produced before deploy (and an empty fifth partition) gives the reference output; idle release is counted", async () => {
    const s = await setup("backlog", 5);
    const records = main(1);
    const close = closers(base + 260_000, 4);
    await produce(s.source, [...records, ...close], closerPartition);
    await deploy(s, "exactly_once");
    const expected = await reference(s.def, s.source, s.sink, s.lateSink, [byEventTime(records), close]);
    expect(expected.out.length).toBeGreaterThan(150);
    expect(expected.late).toEqual([]);
    // Partition 4 never receives anything: the windows close when it is found idle (a check, after 10 s).
    await expectSinks(s, expected);
    const late = lateRecords(base, 25);
    await produce(s.source, late, (c) => c.seq % 5);
    await expectSinks(s, { out: expected.out, late });
    await expectMetricsAgree(s, { out: expected.out.length, late: late.length });
  }, 180_000);

  it("a live run on 4 partitions, produced in 500-record calls after deploy, gives the reference output", async () => {
    const s = await setup("live", 4);
    await deploy(s, "at_least_once");
    await running(s);
    const records = main(2);
    for (let i = 0; i < records.length; i += 500) {
      await produce(s.source, records.slice(i, i + 500));
      await sleep(300);
    }
    const close = closers(base + 260_000, 4);
    await produce(s.source, close, closerPartition);
    const expected = await reference(s.def, s.source, s.sink, s.lateSink, [byEventTime(records), close]);
    await expectSinks(s, expected);
    const late = lateRecords(base, 12);
    await produce(s.source, late);
    await expectSinks(s, { out: expected.out, late });
    await call(stopRoute.POST, { caller: user, params: { team, pipeline: s.name } });
  }, 180_000);

  it("one partition much slower than the others (its producer 60 s behind, starting later) holds the windows open", async () => {
    const s = await setup("slow", 4);
    await deploy(s, "exactly_once");
    await running(s);
    const sent: Click[] = [];
    let seq = 0;
    const round = (p: number, start: number) => Array.from({ length: 10 }, (_, k): Click => ({ ad: `ad-${p + 4 * (k % 2)}`, ts: start + k * 100, seq: seq++ }));
    for (let r = 0; r < 34; r++) {
      const batch: Click[] = [];
      if (r < 30) for (const p of [0, 1, 2]) batch.push(...round(p, base + r * 1_000));
      if (r >= 4) batch.push(...round(3, base - 60_000 + (r - 4) * 1_000));
      sent.push(...batch);
      await produce(s.source, batch);
      await sleep(150);
    }
    const close = closers(base + 100_000, 4);
    await produce(s.source, close, closerPartition);
    const expected = await reference(s.def, s.source, s.sink, s.lateSink, [byEventTime(sent), close]);
    expect(expected.late).toEqual([]);
    await expectSinks(s, expected);
    await call(stopRoute.POST, { caller: user, params: { team, pipeline: s.name } });
  }, 180_000);

  it("a partition silent for a while that resumes loses nothing: quiet partitions never move the watermark, unread records hold it", async () => {
    const s = await setup("resume", 4);
    await deploy(s, "at_least_once");
    await running(s);
    const sent: Click[] = [];
    let seq = 0;
    // Partition 2's producer is 30 s behind the others.
    const round = (p: number, start: number, n = 10, step = 100) => Array.from({ length: n }, (_, k): Click => ({ ad: `ad-${p + 4 * (k % 2)}`, ts: start + k * step, seq: seq++ }));
    for (let r = 0; r < 10; r++) {
      const batch = [0, 1, 3].flatMap((p) => round(p, base + r * 1_000)).concat(round(2, base - 30_000 + r * 1_000));
      sent.push(...batch);
      await produce(s.source, batch);
      await sleep(150);
    }
    // Every partition goes quiet for longer than the idle timeout (10 s) and is found idle.
    await sleep(13_000);
    // Partition 2 resumes first with a burst (unread records hold the watermark until delivered), then the others.
    const burst = round(2, base - 20_000, 2_000, 10);
    sent.push(...burst);
    await produce(s.source, burst);
    for (let r = 10; r < 20; r++) {
      const batch = [0, 1, 3].flatMap((p) => round(p, base + r * 1_000));
      sent.push(...batch);
      await produce(s.source, batch);
      await sleep(100);
    }
    const close = closers(base + 60_000, 4);
    await produce(s.source, close, closerPartition);
    const expected = await reference(s.def, s.source, s.sink, s.lateSink, [byEventTime(sent), close]);
    expect(expected.late).toEqual([]);
    await expectSinks(s, expected);
    await call(stopRoute.POST, { caller: user, params: { team, pipeline: s.name } });
  }, 180_000);

  it("exactly_once: kill -9 of the worker in the middle of a 4-partition backlog; the new task restores per-partition watermarks and gives the reference output", async () => {
    const s = await setup("takeover", 4);
    // Padded records and a delay before each commit keep the backlog running long enough to kill into.
    const records = main(5, 12_000, 3_000);
    const close = closers(base + 700_000, 4);
    await produce(s.source, [...records, ...close], closerPartition);
    const slow = { SLUICE_FAULT_DELAY_BEFORE_COMMIT_MS: "300" };
    // The shared worker must not take this task: stop it, run two slowed ones.
    byName.get("wm-main")?.kill("SIGKILL");
    spawnWorker("wm-a", slow);
    spawnWorker("wm-b", slow);
    await deploy(s, "exactly_once");
    const busy = await waitFor("task mid-backlog", () => status(s.name), (b) => b.tasks?.[0]?.state === "running" && b.tasks[0].recordsIn >= 1_500, 90_000);
    expect(busy.tasks[0].recordsIn, "the kill must land in the middle of the backlog").toBeLessThan(records.length * 0.75);
    byName.get(busy.tasks[0].worker)!.kill("SIGKILL");
    spawnWorker("wm-c", slow);
    const expected = await reference(s.def, s.source, s.sink, s.lateSink, [byEventTime(records), close]);
    expect(expected.out.length).toBeGreaterThan(400);
    await expectSinks(s, expected);
    await call(stopRoute.POST, { caller: user, params: { team, pipeline: s.name } });
  }, 240_000);
});
