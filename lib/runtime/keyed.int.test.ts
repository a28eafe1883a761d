import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as scaleRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/scale/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import * as statusRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/status/route";
import * as pipelineRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/route";
import * as lineageRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/lineage/route";
import { closeKafka, kafka, kafkaAdmin, kafkaProducer } from "@/lib/kafka/shared";
import type { Row, StreamSchema } from "@/lib/pipeline";
import { repartitionStreamName } from "@/lib/runtime/naming";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { prisma } from "@/lib/db/prisma";
import { call, createPipelineWithVersion, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";
import { byEventTime, clickKey, countKey, multiset, random, readTopic, reference, windowCountPipeline, type Click } from "@/scripts/testing/window-workload";

/**
 * Issue 12 on the real broker with real worker processes: a Window whose key
 * is not the source's partitioning runs in two stages with a repartition
 * stream between them. Its output — window rows and late records, as
 * multisets — equals the single-process reference (the same plan over the
 * records in event-time order) at parallelism 1, 2 and 3, across a rescale
 * 1 → 3 → 2 mid-stream, and across kill -9 of the worker running a Window
 * task, under exactly_once.
 */
const hasKafka = !!process.env.KAFKA_BROKERS;
const root = join(import.meta.dirname, "../..");
let user: TestUser;
let team: string;
const workers = new Set<ChildProcess>();
const byName = new Map<string, ChildProcess>();
const deployed = new Set<string>();
/** Every pipeline this file made: stopped in afterAll whatever happened, so no task of it outlives the file. */
const created = new Set<string>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Each worker's log (LOG_LEVEL from KEYED_WORKER_LOG_LEVEL, warn by default): its tail goes into a timeout's message. */
const logDir = mkdtempSync(join(tmpdir(), "keyed-workers-"));
/** waitFor never waits past this: a stuck wait fails with its own message before the test's timeout hides which one. */
let deadline = Infinity;

function workerLogTails(lines = 25): string {
  return readdirSync(logDir).map((f) => {
    const text = readFileSync(join(logDir, f), "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    return `--- ${f}\n${text}`;
  }).join("\n");
}

const sourceSchema: StreamSchema = [
  { name: "ad", type: "string", nullable: true },
  { name: "ts", type: "timestamp" },
  { name: "seq", type: "int" },
  { name: "pad", type: "string", nullable: true },
];
const countSchema: StreamSchema = [
  { name: "ad", type: "string", nullable: true },
  { name: "window_start", type: "timestamp" },
  { name: "window_end", type: "timestamp" },
  { name: "n", type: "int" },
];

function spawnWorker(name: string): ChildProcess {
  const log = openSync(join(logDir, `${name}.log`), "a");
  const w = spawn(process.execPath, ["--import", "tsx", join(root, "workers/task-worker.ts")], {
    cwd: root,
    env: { ...process.env, WORKER_NAME: name, WORKER_SLOTS: "16", LOG_LEVEL: process.env.KEYED_WORKER_LOG_LEVEL ?? "warn", SLUICE_FAULT_DELAY_BEFORE_COMMIT_MS: "50" },
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  workers.add(w);
  byName.set(name, w);
  w.on("exit", () => workers.delete(w));
  return w;
}

beforeAll(async () => {
  if (!hasKafka) return;
  user = await signUp();
  team = uniqueName("keyed");
  await call(teams.POST, { caller: user, body: { name: "Keyed", slug: team } });
  for (const n of ["k-a", "k-b", "k-c"]) spawnWorker(n);
});

afterEach(async () => {
  for (const name of deployed) await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } }).catch(() => undefined);
  deployed.clear();
});

afterAll(async () => {
  // A property that failed or timed out leaves its deployments running; the next files' workers must not get them.
  for (const name of created) await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } }).catch(() => undefined);
  for (const w of workers) w.kill("SIGKILL");
  await closeTaskQueue();
  await closeKafka();
});

const status = async (pipeline: string) => (await call(statusRoute.GET, { caller: user, params: { team, pipeline } })).body;

async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const until = Math.min(Date.now() + timeoutMs, deadline);
  let last = await fn();
  while (!ok(last)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(last).slice(0, 600)}`);
    await sleep(300);
    last = await fn();
  }
  return last;
}

async function stream(name: string, layer: string, partitions: number, schema: StreamSchema) {
  const r = await call(streamsRoute.POST, { caller: user, params: { team }, body: { name, layer, partitions, schema } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}

interface Keyed {
  name: string;
  sink: string;
  lateSink: string;
  def: ReturnType<typeof windowCountPipeline>;
}

async function pipelineOn(source: string, label: string): Promise<Keyed> {
  const sink = `dws.${uniqueName(`${label}-counts`)}`;
  const lateSink = `dwd.${uniqueName(`${label}-late`)}`;
  await stream(sink, "DWS", 1, countSchema);
  await stream(lateSink, "DWD", 1, sourceSchema);
  const name = uniqueName(label);
  const def = windowCountPipeline({ source, sink, lateSink, size: "10s", bound: "3s" });
  await createPipelineWithVersion(user, team, name, def);
  created.add(name);
  return { name, sink, lateSink, def };
}

/**
 * 8 key groups instead of the default 32 unless a test says otherwise: the same code paths (tasks own
 * groups p mod N, 3 tasks own 3/3/2), a quarter of the partitions in every transaction, so five
 * pipelines fit two cores within the test's time (the default is checked in its own test below).
 */
async function deploy(p: Keyed, parallelism: number, extra: Record<string, unknown> = {}) {
  const r = await call(deployRoute.POST, { caller: user, params: { team, pipeline: p.name }, body: { parallelism, deliveryGuarantee: "exactly_once", maxParallelism: 8, ...extra } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  deployed.add(p.name);
  return r.body;
}

const allRunning = (p: Keyed) => waitFor(`${p.name} running`, () => status(p.name), (s) => s.actualState === "running", 120_000);

/** Records keyed by `ad` but produced to partitions by `seq` (not by key): the Window must regroup them. */
async function produce(topic: string, records: readonly Click[], partitions: number) {
  const producer = await kafkaProducer();
  for (let i = 0; i < records.length; i += 1_000) {
    await producer.send({ topic, acks: -1, messages: records.slice(i, i + 1_000).map((c) => ({ key: String(c.seq), value: JSON.stringify({ pad: null, ...c }), partition: c.seq % partitions })) });
  }
}

/** A keyed workload in production order: disorder within the bound, some records with a null or missing key. */
function workload(seed: number, count: number, start: number): Click[] {
  const rnd = random(seed);
  let ts = start;
  let maxTs = -Infinity;
  return Array.from({ length: count }, (_, i) => {
    ts += Math.floor(rnd() * 60);
    let t = ts + Math.floor((rnd() * 2 - 1) * 1_500);
    if (t < maxTs - 3_000) t = maxTs - 3_000;
    maxTs = Math.max(maxTs, t);
    const k = Math.floor(rnd() * 14);
    return { ad: k === 13 ? null : `ad-${k}`, ts: t, seq: i };
  });
}

async function sinksOf(p: Keyed) {
  return { out: await readTopic(kafka(), p.sink, 1), late: await readTopic(kafka(), p.lateSink, 1) };
}

async function expectReference(p: Keyed, expected: { out: Row[]; late: Row[] }) {
  await waitFor(`${p.name} output`, () => sinksOf(p), (s) => s.out.length >= expected.out.length && s.late.length >= expected.late.length, 150_000).catch(async (e) => {
    const got = await sinksOf(p);
    const have = new Set(got.out.map(countKey));
    const missing = expected.out.map(countKey).filter((k) => !have.has(k));
    throw new Error(`${(e as Error).message.slice(0, 200)}; ${got.out.length}/${expected.out.length} rows, ${got.late.length}/${expected.late.length} late; ${missing.length} expected rows missing, e.g. ${missing.slice(0, 8).join(", ")}; status ${JSON.stringify(await status(p.name)).slice(0, 1500)}\nworker logs (${logDir}):\n${workerLogTails()}`);
  });
  await sleep(1_500);
  const got = await sinksOf(p);
  expect(multiset(got.out, countKey), `${p.name}: window rows`).toEqual(multiset(expected.out, countKey));
  expect(multiset(got.late, clickKey), `${p.name}: late records`).toEqual(multiset(expected.late, clickKey));
}

describe.skipIf(!hasKafka)("keyed scale-out (issue 12)", () => {
  it("output equals the single-process reference at parallelism 1, 2, 3, across a rescale 1 → 3 → 2 and a kill -9 of a Window task (exactly_once)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), async (seed) => {
        deadline = Date.now() + 540_000;
        const source = `ods.${uniqueName("keyed-src")}`;
        await stream(source, "ODS", 4, sourceSchema);
        const ps = { p1: await pipelineOn(source, "p1"), p2: await pipelineOn(source, "p2"), p3: await pipelineOn(source, "p3"), rescale: await pipelineOn(source, "rescale"), kill: await pipelineOn(source, "kill") };
        await deploy(ps.p1, 1);
        await deploy(ps.p2, 2);
        await deploy(ps.p3, 3);
        await deploy(ps.rescale, 1);
        await deploy(ps.kill, 2);
        for (const p of Object.values(ps)) await allRunning(p);
        const st = await status(ps.p3.name);
        expect(st.stages).toEqual(["main", "w"]);
        expect(st.maxParallelism).toBe(8);
        expect(st.tasks.map((t: { stage: string }) => t.stage).sort()).toEqual(["main", "main", "main", "w", "w", "w"]);

        const base = Date.UTC(2026, 11, 4, 11, 0, 0) + (seed % 1_000) * 60_000;
        const records = workload(seed, 2_400, base);
        const thirds = [records.slice(0, 800), records.slice(800, 1_600), records.slice(1_600)];
        await produce(source, thirds[0], 4);
        await sleep(1_500);
        // Mid-stream: scale 1 → 3, kill the worker running a task of the Window's stage.
        expect((await call(scaleRoute.POST, { caller: user, params: { team, pipeline: ps.rescale.name }, body: { parallelism: 3 } })).status).toBe(200);
        const victim = await waitFor("a running Window task", () => status(ps.kill.name), (s) => s.tasks.some((t: { stage: string; state: string }) => t.stage === "w" && t.state === "running"));
        const host = victim.tasks.find((t: { stage: string; state: string }) => t.stage === "w" && t.state === "running").worker as string;
        await produce(source, thirds[1], 4);
        byName.get(host)!.kill("SIGKILL");
        spawnWorker(`${host}-r${seed}`);
        await sleep(1_500);
        expect((await call(scaleRoute.POST, { caller: user, params: { team, pipeline: ps.rescale.name }, body: { parallelism: 2 } })).status).toBe(200);
        await produce(source, thirds[2], 4);
        const end = Math.max(...records.map((r) => r.ts));
        const closers: Click[] = Array.from({ length: 4 }, (_, p) => ({ ad: "closer", ts: end + 60_000, seq: 10_000 + p }));
        await produce(source, closers, 4);

        const expected = await reference(ps.p1.def, source, ps.p1.sink, ps.p1.lateSink, [byEventTime(records), closers], { sourceSchema, countSchema });
        expect(expected.late).toEqual([]);
        expect(expected.out.some((r) => r.ad === null)).toBe(true);
        for (const p of Object.values(ps)) await expectReference(p, expected);

        // Records older than every window still kept: late in every pipeline, on its late output.
        const late: Click[] = Array.from({ length: 9 }, (_, i) => ({ ad: i % 3 ? `ad-${i}` : null, ts: base - 300_000 + i, seq: 20_000 + i }));
        await produce(source, late, 4);
        for (const p of Object.values(ps)) await expectReference(p, { out: expected.out, late });
        for (const p of Object.values(ps)) await call(stopRoute.POST, { caller: user, params: { team, pipeline: p.name } });
        deployed.clear();
      }),
      // No shrinking: a re-run of five pipelines would outlast the test's timeout and hide the first failure.
      { numRuns: 1, endOnFailure: true },
    ).finally(() => {
      deadline = Infinity;
    });
  }, 600_000);

  it("refuses more tasks than key groups (422 naming the limit) and keeps the max parallelism fixed", async () => {
    const source = `ods.${uniqueName("keyed-limit")}`;
    await stream(source, "ODS", 4, sourceSchema);
    const p = await pipelineOn(source, "limit");
    const over = await call(deployRoute.POST, { caller: user, params: { team, pipeline: p.name }, body: { parallelism: 3, maxParallelism: 2 } });
    expect(over.status).toBe(422);
    expect(over.body.error.message).toContain("max parallelism 2");
    expect(over.body.error.details).toEqual([{ path: ["parallelism"], message: "at most 2" }]);
    await deploy(p, 2, { maxParallelism: 2 });
    const changed = await call(deployRoute.POST, { caller: user, params: { team, pipeline: p.name }, body: { parallelism: 2, maxParallelism: 4 } });
    expect(changed.status).toBe(409);
    expect(changed.body.error.message).toContain("fixed when it was first deployed");
    const scaled = await call(scaleRoute.POST, { caller: user, params: { team, pipeline: p.name }, body: { parallelism: 3 } });
    expect(scaled.status).toBe(422);
    expect(scaled.body.error.message).toContain("at most 2 tasks");
  }, 120_000);

  it("keeps the repartition stream out of the catalog, shows it in lineage, and deletes it with the pipeline", async () => {
    const source = `ods.${uniqueName("keyed-internal")}`;
    await stream(source, "ODS", 2, sourceSchema);
    const p = await pipelineOn(source, "internal");
    const d = await deploy(p, 2, { maxParallelism: undefined });
    const pipelineId = (await prisma().pipeline.findFirstOrThrow({ where: { name: p.name } })).id;
    const internal = repartitionStreamName(pipelineId, "w");
    expect(d.stages).toEqual(["main", "w"]);
    expect((await (await kafkaAdmin()).fetchTopicOffsets(internal)).length).toBe(32);
    const catalog = await call(streamsRoute.GET, { caller: user, params: { team } });
    expect(catalog.body.streams.map((s: { name: string }) => s.name)).not.toContain(internal);
    const lineage = await call(lineageRoute.GET, { caller: user, params: { team, pipeline: p.name } });
    expect(lineage.status, JSON.stringify(lineage.body)).toBe(200);
    expect(lineage.body.nodes.map((n: { name: string }) => n.name)).toContain(internal);
    await allRunning(p);
    await call(stopRoute.POST, { caller: user, params: { team, pipeline: p.name } });
    await waitFor("stopped", () => status(p.name), (s) => s.actualState === "stopped", 30_000);
    deployed.clear();
    expect((await call(pipelineRoute.DELETE, { method: "DELETE", caller: user, params: { team, pipeline: p.name } })).status).toBe(200);
    expect(await prisma().stream.findUnique({ where: { name: internal } })).toBeNull();
    const topics = await (await kafkaAdmin()).listTopics();
    expect(topics.filter((t) => t.includes(pipelineId))).toEqual([]);
  }, 120_000);
});
