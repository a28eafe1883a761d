/**
 * npm run bench -- runtime   [--records=N] [--rounds=N] [--latency-runs=N] [--keyed-records=N] [--keyed-rounds=N] [--keyed-layouts=1,2,3] [--keyed-max-parallelism=N] [--hop-max-parallelism=N] [--hop-guarantees=exactly_once,at_least_once] [--only=throughput,latency,takeover,keyed,metrics,txn]
 *
 * End-to-end figures for Source → Filter → Projection → Sink through the broker,
 * run by one worker process, beside a hand-written kafkajs consume-transform-
 * produce loop (eachBatch, one send per batch, commit after send) doing the same
 * work on the same records in the same run:
 *   1. sustained throughput, records/s per worker process, at_least_once and exactly_once;
 *   2. end-to-end latency p50/p99 at 10k records/s;
 *   3. takeover time after kill -9 of the worker running the task;
 *   4. keyed scale-out: a 10k-key tumbling count (a Window behind a repartition
 *      stream) with 1 task vs 2 tasks per stage, two worker processes, records/s
 *      and each process's CPU; and the latency the repartition hop adds at 10k
 *      records/s, against the same Window run in one stage, under exactly_once
 *      (two transactions in series) and at_least_once.
 *   5. what writing metrics to ClickHouse costs: the same pipeline run by a worker
 *      with SLUICE_METRICS=on and one with =off, alternating, same records.
 *   6. what one transaction costs by the partitions it writes (1 vs 32): the floor
 *      of each stage's round, which the repartition hop pays twice in series.
 * Starts its own Postgres, Redis, ClickHouse and broker in a temp dir.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import getPort from "get-port";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { kafkaClientSecurity } from "@/lib/kafka/security";
import { consumerGroupId } from "@/lib/runtime/naming";
import { startStack, type Stack } from "../services/local-stack";
import { handTransform, pipelineDef, record, schema, sinkSchema } from "./runtime-shared";

const root = fileURLToPath(new URL("../..", import.meta.url));
const arg = (name: string, fallback: number) => Number(process.argv.find((x) => x.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const RECORDS = arg("records", 200_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** user + system CPU seconds a process has used so far (Linux /proc; clock ticks are 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-"));
  chmodSync(dir, 0o755);
  const secret = () => randomBytes(16).toString("hex");
  const stack: Stack = await startStack({
    root, dataDir: dir, external: {},
    ports: { postgres: await getPort(), redis: await getPort(), clickhouseHttp: await getPort(), clickhouseTcp: await getPort(), kafka: await getPort() },
    secrets: { postgresPassword: secret(), redisPassword: secret(), clickhousePassword: secret() },
  });
  Object.assign(process.env, stack.env, { BETTER_AUTH_SECRET: randomBytes(32).toString("base64"), SLUICE_URL: "http://localhost:3000", LOG_LEVEL: "silent" });
  const workers: ChildProcess[] = [];
  const spawnWorker = (name: string) => {
    // BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the worker.
    const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? "").split(" ").filter(Boolean);
    const w = spawn(process.execPath, [...nodeArgs, "--import", "tsx", join(root, "workers/task-worker.ts")], { cwd: root, env: { ...process.env, WORKER_NAME: name, WORKER_SLOTS: "2", LOG_LEVEL: "warn" }, stdio: process.env.BENCH_WORKER_LOG ? ["ignore", "ignore", "pipe"] : "ignore" });
    if (process.env.BENCH_WORKER_LOG) w.stderr!.pipe(createWriteStream(`${process.env.BENCH_WORKER_LOG}.${name}`));
    workers.push(w);
    return w;
  };
  try {
    const { createUser } = await import("@/lib/users/create-user");
    const { createTeam } = await import("@/lib/teams/teams");
    const { createStream } = await import("@/lib/warehouse/streams");
    const { createPipeline, saveVersion } = await import("@/lib/pipelines/pipelines");
    const { deploy, stop } = await import("@/lib/pipelines/deployments");
    const { pipelineStatus } = await import("@/lib/pipelines/status");
    const u = await createUser({ email: "bench@example.test", name: "Bench", password: randomBytes(18).toString("base64url") });
    const principal = { kind: "user" as const, userId: u.id, email: u.email, name: u.name };
    await createTeam(principal, { name: "Bench", slug: "bench" });
    const kafka = new Kafka({ brokers: stack.env.KAFKA_BROKERS!.split(","), logLevel: logLevel.NOTHING, clientId: "bench", ...kafkaClientSecurity() });
    const admin = kafka.admin();
    await admin.connect();
    const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sinkCount = async (topic: string) => (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0);
    const expectedOut = Array.from({ length: RECORDS }, (_, i) => handTransform(Buffer.from(record(i)))).filter(Boolean).length;
    let n = 0;
    const stream = async (layer: "ODS" | "DWD" | "DWS", s: unknown = schema, partitions = 2) => {
      const name = `${layer.toLowerCase()}.bench-${n++}`;
      await createStream(principal, "bench", { name, layer, partitions, schema: s as never, retentionMs: null });
      return name;
    };
    const preload = async (topic: string) => {
      for (let i = 0; i < RECORDS; i += 5_000) {
        await producer.send({ topic, acks: -1, messages: Array.from({ length: Math.min(5_000, RECORDS - i) }, (_, j) => ({ key: `user-${(i + j) % 10_007}`, value: record(i + j) })) });
      }
    };
    /**
     * Time from the first output record to the last: sustained rate, without
     * start-up. With a pid, also that process's CPU time over the same window,
     * per input record — a figure that other load on the machine barely moves.
     */
    const timeOutput = async (sink: string, expected: number, pid?: number) => {
      while ((await sinkCount(sink)) === 0) await sleep(5);
      const t0 = performance.now();
      const cpu0 = pid ? cpuSeconds(pid) : 0;
      const c0 = await sinkCount(sink);
      let c = c0;
      while (c < expected) {
        await sleep(20);
        c = await sinkCount(sink);
      }
      const inputRecords = (expected - c0) * (RECORDS / expectedOut);
      return { rate: (inputRecords / (performance.now() - t0)) * 1000, cpuUsPerRecord: pid ? ((cpuSeconds(pid) - cpu0) * 1e6) / inputRecords : NaN };
    };

    // --only=throughput,latency,takeover,keyed,metrics,txn picks sections (all by default).
    const only = (process.argv.find((x) => x.startsWith("--only="))?.split("=")[1] ?? "throughput,latency,takeover,keyed,metrics,txn").split(",");

    // 5. Metrics on vs off (first, while no other worker can take the task) ----
    // Each round runs the pipeline once on a worker writing metrics and once on a
    // worker that does not (SLUICE_METRICS=off), each alone, same preloaded records;
    // the CPU the worker spends per record is the figure other load barely moves.
    if (only.includes("metrics")) {
      const src = await stream("ODS");
      await preload(src);
      const ROUNDS = arg("rounds", 3);
      const rate: Record<"on" | "off", number[]> = { on: [], off: [] };
      const cpuUs: Record<"on" | "off", number[]> = { on: [], off: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const mode of round % 2 ? (["off", "on"] as const) : (["on", "off"] as const)) {
          const w = spawn(process.execPath, ["--import", "tsx", join(root, "workers/task-worker.ts")], { cwd: root, env: { ...process.env, WORKER_NAME: `bench-metrics-${mode}-${round}`, WORKER_SLOTS: "2", LOG_LEVEL: "warn", SLUICE_METRICS: mode }, stdio: "ignore" });
          const s = await stream("DWD", sinkSchema, 1);
          const name = `metrics-${mode}-${round}`;
          await createPipeline(principal, "bench", { name });
          await saveVersion(principal, "bench", name, { pipeline: pipelineDef(src, s) });
          const t = timeOutput(s, expectedOut, w.pid);
          await deploy(principal, "bench", name, { deliveryGuarantee: "at_least_once" });
          const r = await t;
          rate[mode].push(r.rate);
          cpuUs[mode].push(r.cpuUsPerRecord);
          await stop(principal, "bench", name);
          await new Promise<void>((res) => { w.once("exit", () => res()); w.kill("SIGTERM"); });
        }
      }
      const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
      const [on, off, cOn, cOff] = [med(rate.on), med(rate.off), med(cpuUs.on), med(cpuUs.off)];
      console.log(`| Metrics writing (${RECORDS.toLocaleString()} records, at_least_once, median of ${ROUNDS} rounds) | records/s | CPU µs per record (worker) |`);
      console.log("|---|---|---|");
      console.log(`| SLUICE_METRICS=off | ${Math.round(off).toLocaleString()} | ${cOff.toFixed(1)} |`);
      console.log(`| SLUICE_METRICS=on (ClickHouse writes) | ${Math.round(on).toLocaleString()} | ${cOn.toFixed(1)} |`);
      console.log(`| cost of metrics | ${((1 - on / off) * 100).toFixed(1)}% of throughput | ${((cOn / cOff - 1) * 100).toFixed(1)}% more CPU per record |`);
      console.log(`\nrounds (records/s): on ${rate.on.map(Math.round).join(", ")}; off ${rate.off.map(Math.round).join(", ")}`);
      console.log(`rounds (CPU µs/record): on ${cpuUs.on.map((x) => x.toFixed(1)).join(", ")}; off ${cpuUs.off.map((x) => x.toFixed(1)).join(", ")}\n`);
    }
    const worker = spawnWorker("bench-1");

    // 1. Throughput -------------------------------------------------------
    // Rounds alternate hand-written / hand-written + linear grouping / at_least_once / exactly_once over the
    // same preloaded source, each with a fresh sink and consumer group, and the
    // table reports the median of each: the machine is shared, so single runs
    // vary by ±20%.
    const ROUNDS = arg("rounds", 3);
    type Side = "hand" | "handLinear" | "at_least_once" | "exactly_once";
    const runs: Record<Side, number[]> = { hand: [], handLinear: [], at_least_once: [], exactly_once: [] };
    const cpu: Record<Side, number[]> = { hand: [], handLinear: [], at_least_once: [], exactly_once: [] };
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const results: Record<string, number> = {};
    const cpuResults: Record<string, number> = {};
    if (only.includes("throughput")) {
      const src = await stream("ODS");
      await preload(src);
      for (let round = 0; round < ROUNDS; round++) {
        for (const side of ["hand", "handLinear"] as const) {
          const sink = await stream("DWD", sinkSchema, 1);
          const hand = spawn(process.execPath, ["--import", "tsx", join(root, "scripts/bench/hand-loop.ts")], {
            cwd: root,
            env: { ...process.env, BENCH_BROKERS: stack.env.KAFKA_BROKERS, BENCH_SOURCE: src, BENCH_SINK: sink, BENCH_GROUP: `bench-${side}-${round}`, BENCH_HAND_LINEAR: side === "handLinear" ? "1" : "" },
            stdio: ["ignore", "ignore", "inherit"],
          });
          const r = await timeOutput(sink, expectedOut, hand.pid);
          runs[side].push(r.rate);
          cpu[side].push(r.cpuUsPerRecord);
          await new Promise<void>((res) => { hand.once("exit", () => res()); hand.kill("SIGTERM"); });
        }
        for (const mode of ["at_least_once", "exactly_once"] as const) {
          const s = await stream("DWD", sinkSchema, 1);
          const name = `tp-${mode.replace(/_/g, "-")}-${round}`;
          await createPipeline(principal, "bench", { name });
          await saveVersion(principal, "bench", name, { pipeline: pipelineDef(src, s) });
          const t = timeOutput(s, expectedOut, worker.pid);
          await deploy(principal, "bench", name, { deliveryGuarantee: mode });
          const r = await t;
          runs[mode].push(r.rate);
          cpu[mode].push(r.cpuUsPerRecord);
          await stop(principal, "bench", name);
        }
      }
      for (const k of Object.keys(runs) as (keyof typeof runs)[]) {
        results[k] = median(runs[k]);
        cpuResults[k] = median(cpu[k]);
      }
      const row = (label: string, k: keyof typeof runs, extra = "") =>
        console.log(`| ${label} | ${Math.round(results[k]).toLocaleString()} | ${(results[k] / results.hand).toFixed(2)}×${extra} | ${cpuResults[k].toFixed(1)} | ${(cpuResults.hand / cpuResults[k]).toFixed(2)}× |`);
      console.log(`| Throughput (${RECORDS.toLocaleString()} records of ~230 B, 1 process, median of ${ROUNDS} rounds) | records/s | vs hand-written | CPU µs per record (that process) | efficiency vs hand-written |`);
      console.log("|---|---|---|---|---|");
      row("hand-written kafkajs loop (at-least-once)", "hand");
      row("(context) the same loop with Sluice's linear message grouping", "handLinear");
      row("Sluice at_least_once", "at_least_once");
      row("Sluice exactly_once", "exactly_once", ` (${((1 - results.exactly_once / results.at_least_once) * 100).toFixed(0)}% below at_least_once)`);
      const rounds = (of: Record<Side, number[]>, f: (x: number) => string) =>
        (Object.keys(of) as Side[]).map((k) => `${k === "handLinear" ? "hand+linear" : k} ${of[k].map(f).join(", ")}`).join("; ");
      console.log(`\nrounds (records/s): ${rounds(runs, (x) => String(Math.round(x)))}`);
      console.log(`rounds (CPU µs/record): ${rounds(cpu, (x) => x.toFixed(1))}`);
    }

    // 2. Latency at 10k records/s ------------------------------------------
    // Tails on a 2-core machine swing a lot from one 10 s window to the next
    // (GC, ClickHouse merges, fsync), so each mode runs --latency-runs windows
    // (3 by default), alternating modes, and the median window is reported.
    const LAT_RUNS = arg("latency-runs", 3);
    const latRuns: Record<"at_least_once" | "exactly_once", { n: number; p50: number; p99: number }[]> = { at_least_once: [], exactly_once: [] };
    const modes = only.includes("latency") ? (["at_least_once", "exactly_once"] as const) : [];
    for (let run = 0; run < LAT_RUNS; run++) for (const mode of modes) {
      const src = await stream("ODS");
      const sink = await stream("DWD", sinkSchema, 1);
      const name = `lat-${mode.replace(/_/g, "-")}-${run}`;
      await createPipeline(principal, "bench", { name });
      await saveVersion(principal, "bench", name, { pipeline: pipelineDef(src, sink) });
      await deploy(principal, "bench", name, { deliveryGuarantee: mode });
      while ((await pipelineStatus(principal, "bench", name)).actualState !== "running") await sleep(100);
      const lat: number[] = [];
      const c = kafka.consumer({ groupId: `bench-lat-${mode}-${run}`, maxWaitTimeInMs: 5 });
      await c.connect();
      await c.subscribe({ topics: [sink], fromBeginning: true });
      await c.run({ eachBatch: async ({ batch }) => { const now = Date.now(); for (const m of batch.messages) lat.push(now - (JSON.parse(m.value!.toString()) as { sent_at: number }).sent_at); } });
      await sleep(2_000);
      const start = Date.now();
      let i = 0;
      while (Date.now() - start < 10_000) {
        const due = Math.floor(((Date.now() - start) / 1000) * 10_000);
        const msgs = [];
        for (; i < due; i++) msgs.push({ key: `u${i % 100}`, value: record(i, Date.now()) });
        if (msgs.length) await producer.send({ topic: src, acks: -1, messages: msgs });
        await sleep(5);
      }
      await sleep(2_000);
      await c.disconnect();
      await stop(principal, "bench", name);
      lat.sort((a, b) => a - b);
      const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
      latRuns[mode].push({ n: lat.length, p50: q(0.5), p99: q(0.99) });
    }
    if (modes.length) {
      console.log(`\n| End-to-end latency at 10k records/s (10 s windows, median of ${LAT_RUNS}) | p50 ms | p99 ms | p99 of each window |\n|---|---|---|---|`);
      for (const mode of modes) {
        const byP99 = [...latRuns[mode]].sort((a, b) => a.p99 - b.p99);
        const mid = byP99[Math.floor(byP99.length / 2)];
        console.log(`| ${mode} (${mid.n.toLocaleString()} records) | ${mid.p50} | ${mid.p99} | ${latRuns[mode].map((r) => r.p99).join(" · ")} |`);
      }
    }

    // 3. Takeover after kill -9 -------------------------------------------
    if (only.includes("takeover")) {
      const second = spawnWorker("bench-2");
      const src = await stream("ODS");
      const sink = await stream("DWD", sinkSchema, 1);
      await createPipeline(principal, "bench", { name: "takeover" });
      await saveVersion(principal, "bench", "takeover", { pipeline: pipelineDef(src, sink) });
      await deploy(principal, "bench", "takeover", { deliveryGuarantee: "exactly_once" });
      let st = await pipelineStatus(principal, "bench", "takeover");
      while (!st.deployed || st.actualState !== "running") { await sleep(100); st = await pipelineStatus(principal, "bench", "takeover"); }
      let producing = true;
      let i = 0;
      const feeder = (async () => { while (producing) { await producer.send({ topic: src, acks: -1, messages: Array.from({ length: 50 }, () => ({ value: record(i++, Date.now()) })) }); await sleep(20); } })();
      await sleep(2_000);
      const host = st.deployed ? st.tasks[0].worker : undefined;
      const victim = host === "bench-2" ? second : workers[0];
      const before = await sinkCount(sink);
      const killedAt = performance.now();
      victim.kill("SIGKILL");
      let resumed: number | undefined;
      let runningElsewhere: number | undefined;
      const stalledAt = await (async () => { let last = before; for (;;) { await sleep(50); const c = await sinkCount(sink); if (c === last) return performance.now(); last = c; } })();
      while (resumed === undefined && performance.now() - killedAt < 60_000) {
        await sleep(50);
        st = await pipelineStatus(principal, "bench", "takeover");
        if (runningElsewhere === undefined && st.deployed && st.tasks[0].state === "running" && st.tasks[0].worker !== host) runningElsewhere = performance.now();
        if ((await sinkCount(sink)) > before && performance.now() > stalledAt + 100 && runningElsewhere !== undefined) resumed = performance.now();
      }
      producing = false;
      await feeder;
      console.log("\n| Takeover after kill -9 (exactly_once) | seconds |\n|---|---|");
      console.log(`| task running on another worker | ${runningElsewhere ? ((runningElsewhere - killedAt) / 1000).toFixed(1) : "n/a"} |`);
      console.log(`| output flowing again | ${resumed ? ((resumed - killedAt) / 1000).toFixed(1) : "n/a"} |`);
      await stop(principal, "bench", "takeover");
    }
    // 6. One transaction by partitions written ------------------------------
    if (only.includes("txn")) {
      // What a task's round does under exactly_once: one batch of 300 records over N partitions, its
      // offsets, the commit. Nothing else runs, so this is the broker's and kafkajs's floor per round.
      const topic = await stream("DWD", schema, 32);
      const offsetsOf = await stream("ODS", schema, 1);
      const txp = kafka.producer({ transactionalId: "bench-txn", idempotent: true, maxInFlightRequests: 1 });
      await txp.connect();
      const value = record(0);
      const runs = 50;
      console.log(`\n| One transaction, 300 records (median of ${runs}, after 10 warm-up) | ms |\n|---|---|`);
      for (const partitions of [1, 32]) {
        const ms: number[] = [];
        for (let k = 0; k < runs + 10; k++) {
          const t0 = performance.now();
          const txn = await txp.transaction();
          await txn.sendBatch({ topicMessages: [{ topic, messages: Array.from({ length: 300 }, (_, i) => ({ partition: i % partitions, key: `k${i}`, value })) }] });
          await txn.sendOffsets({ consumerGroupId: "bench-txn", topics: [{ topic: offsetsOf, partitions: [{ partition: 0, offset: String(k) }] }] });
          await txn.commit();
          if (k >= 10) ms.push(performance.now() - t0);
        }
        ms.sort((a, b) => a - b);
        console.log(`| ${partitions} partition${partitions > 1 ? "s" : ""} | ${ms[Math.floor(ms.length / 2)].toFixed(1)} |`);
      }
      await txp.disconnect();
    }
    // 4. Keyed scale-out -------------------------------------------------
    if (only.includes("keyed")) {
      const { prisma } = await import("@/lib/db/prisma");
      const { resume } = await import("@/lib/pipelines/deployments");
      const KEYED = arg("keyed-records", 200_000);
      // --hop-max-parallelism=N: the key groups of the latency section's pipelines (the default, 32, when 0).
      const HOP_MAX_PAR = arg("hop-max-parallelism", 0);
      // --keyed-max-parallelism=N: the key groups of the throughput section's staged pipelines (the default when 0).
      const KEYED_MAX_PAR = arg("keyed-max-parallelism", 0);
      const second = workers.length > 1 ? workers[1] : spawnWorker("bench-2");
      const keyedSchema = [{ name: "user_id", type: "string" }, { name: "ts", type: "timestamp" }];
      const countSchema = [{ name: "user_id", type: "string" }, { name: "window_start", type: "timestamp" }, { name: "window_end", type: "timestamp" }, { name: "n", type: "int" }];
      const windowDef = (src: string, sink: string, size: string) => ({
        version: 1,
        nodes: [
          { id: "src", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
          { id: "w", type: "window", config: { window: { kind: "tumbling", size }, timeField: "ts", keys: [{ name: "user_id", expr: "user_id" }], aggregates: [{ name: "n", fn: "count" }] }, position: { x: 1, y: 0 } },
          { id: "out", type: "sink", config: { stream: sink }, position: { x: 2, y: 0 } },
        ],
        edges: [{ source: "src", target: "w" }, { source: "w", target: "out" }],
      });
      // (a) Throughput: the same preloaded 4-partition source (keys not by partition), in three layouts:
      // the one-stage layout (what a deployment made before keyed scale-out keeps: one task runs the whole
      // plan, no hop — the "1 task" of the issue), and the staged layout with 1 and with 2 tasks per stage.
      const src = await stream("ODS", keyedSchema, 4);
      const procs = [workers[0], second];
      type Layout = "one stage, 1 task" | "1 task per stage" | "2 tasks per stage";
      const layouts: Layout[] = ["one stage, 1 task", "1 task per stage", "2 tasks per stage"];
      // --keyed-rounds=N: rounds of the three layouts, alternating (best round reported); --keyed-layouts=1,2 runs only those layouts (1 = one stage), e.g. to profile one.
      const picked = process.argv.find((x) => x.startsWith("--keyed-layouts="))?.split("=")[1].split(",").map((x) => layouts[Number(x) - 1]) ?? layouts;
      if (picked.some((l) => !l)) throw new Error(`--keyed-layouts takes numbers 1–3 (${layouts.map((l, i) => `${i + 1} = ${l}`).join(", ")})`);
      const plan: Layout[] = Array.from({ length: arg("keyed-rounds", 2) }, () => picked).flat();
      /** Pipelines made before the source holds anything, so nothing is read before its round starts. */
      const prepared: { layout: Layout; name: string; sink: string; id: string }[] = [];
      for (const [i, layout] of plan.entries()) {
        const sink = await stream("DWS", countSchema, 1);
        const name = `keyed-${i}`;
        const p = await createPipeline(principal, "bench", { name });
        await saveVersion(principal, "bench", name, { pipeline: windowDef(src, sink, "1m") });
        if (layout === "one stage, 1 task") {
          // Deploy on the empty source, stop, and turn the deployment into the one-stage layout; resumed later.
          await deploy(principal, "bench", name, { deliveryGuarantee: "exactly_once" });
          await stop(principal, "bench", name);
          while ((await pipelineStatus(principal, "bench", name) as { actualState?: string }).actualState !== "stopped") await sleep(100);
          await prisma().deployment.updateMany({ where: { pipeline: { name } }, data: { maxParallelism: null, stages: ["main"] } });
        }
        prepared.push({ layout, name, sink, id: p.id });
      }
      const t0 = Date.UTC(2026, 0, 1);
      for (let i = 0; i < KEYED; i += 5_000) {
        await producer.send({ topic: src, acks: -1, messages: Array.from({ length: Math.min(5_000, KEYED - i) }, (_, j) => ({ key: String(i + j), partition: (i + j) % 4, value: JSON.stringify({ user_id: `user-${(i + j) % 10_007}`, ts: t0 + Math.floor((i + j) / 10) }) })) });
      }
      // One record per partition far ahead closes every window: the last output row means every record went through.
      await producer.send({ topic: src, acks: -1, messages: [0, 1, 2, 3].map((p) => ({ partition: p, value: JSON.stringify({ user_id: "closer", ts: t0 + KEYED + 3_600_000 }) })) });
      const keyedRows = new Set(Array.from({ length: KEYED }, (_, i) => `${(i % 10_007)}|${Math.floor((t0 + Math.floor(i / 10)) / 60_000)}`)).size;
      const keyed: { layout: Layout; rate: number; cpu: number[]; startMs: number }[] = [];
      for (const { layout, name, sink, id } of prepared) {
        const asked = performance.now();
        if (layout === "one stage, 1 task") await resume(principal, "bench", name);
        else await deploy(principal, "bench", name, { parallelism: layout === "2 tasks per stage" ? 2 : 1, deliveryGuarantee: "exactly_once", ...(KEYED_MAX_PAR ? { maxParallelism: KEYED_MAX_PAR } : {}) });
        // Timed from when the main stage's consumer group is Stable (joined and assigned: fetching starts) to
        // the last output row: the rate while records flow, without deploy and group join (shown apart as start-up).
        // The first committed offset would be later for one stage, which commits its only output with it.
        const stable = async () => (await admin.describeGroups([consumerGroupId(id)])).groups.some((g) => g.state === "Stable" && g.members.length > 0);
        while (!(await stable())) await sleep(10);
        const started = performance.now();
        const cpu0 = procs.map((w) => cpuSeconds(w.pid!));
        while ((await sinkCount(sink)) < keyedRows) await sleep(20);
        const done = performance.now();
        const cpu = procs.map((w, i) => cpuSeconds(w.pid!) - cpu0[i]);
        keyed.push({ layout, rate: (KEYED / (done - started)) * 1000, cpu, startMs: started - asked });
        await stop(principal, "bench", name);
        while ((await pipelineStatus(principal, "bench", name) as { actualState?: string }).actualState !== "stopped") await sleep(100);
      }
      if (keyed.length) {
        const best = (l: Layout) => keyed.filter((k) => k.layout === l).sort((a, b) => b.rate - a.rate)[0];
        const base = best(picked[0]).rate;
        console.log(`\n| Keyed window: 10k-key tumbling 1 min count, ${KEYED.toLocaleString()} records, 4 source partitions, exactly_once, two worker processes (best of ${plan.length / picked.length}) | records/s | vs ${picked[0]} | CPU s: worker A · worker B | start-up s |\n|---|---|---|---|---|`);
        for (const l of picked) {
          const k = best(l);
          console.log(`| ${l} | ${Math.round(k.rate).toLocaleString()} | ${(k.rate / base).toFixed(2)}× | ${k.cpu.map((c) => c.toFixed(1)).join(" · ")} | ${(k.startMs / 1000).toFixed(1)} |`);
        }
        console.log(`rounds: ${keyed.map((k) => `${k.layout}: ${Math.round(k.rate)}/s (CPU ${k.cpu.map((c) => c.toFixed(1)).join("+")} s)`).join("; ")}`);
      }

      // (b) The hop's latency at 10k records/s: a 100 ms tumbling count on event time = send time, bound 0, so a
      // window closes as soon as a record past its end is processed; latency = arrival of its row − its end.
      // --hop-guarantees=exactly_once,at_least_once: the delivery guarantees measured (both by default). Under
      // exactly_once each stage's output is readable only once its transaction commits, so the hop adds a round.
      const HOP_GUARANTEES = (process.argv.find((x) => x.startsWith("--hop-guarantees="))?.split("=")[1] ?? "exactly_once,at_least_once").split(",");
      const guarantees = ["exactly_once", "at_least_once"] as const;
      if (HOP_GUARANTEES.some((g) => !(guarantees as readonly string[]).includes(g))) throw new Error(`--hop-guarantees takes ${guarantees.join(", ")}`);
      const layouts2 = ["one stage", "two stages (repartition hop)"] as const;
      const hop = new Map<string, { p50: number[]; p99: number[] }>();
      for (let run = 0; run < LAT_RUNS; run++) {
        for (const guarantee of HOP_GUARANTEES as (typeof guarantees)[number][]) {
          for (const layout of layouts2) {
            const lsrc = await stream("ODS", keyedSchema, 2);
            const lsink = await stream("DWS", countSchema, 1);
            const name = `hop-${guarantee === "exactly_once" ? "eo" : "alo"}-${run}-${layout.startsWith("one") ? "one" : "two"}`;
            await createPipeline(principal, "bench", { name });
            await saveVersion(principal, "bench", name, { pipeline: windowDef(lsrc, lsink, "100ms") });
            await deploy(principal, "bench", name, { deliveryGuarantee: guarantee, ...(HOP_MAX_PAR ? { maxParallelism: HOP_MAX_PAR } : {}) });
            if (layout.startsWith("one")) {
              // The one-stage layout: what deployments made before keyed scale-out keep (a resume keeps it).
              await stop(principal, "bench", name);
              while ((await pipelineStatus(principal, "bench", name)).deployed && (await pipelineStatus(principal, "bench", name) as { actualState: string }).actualState !== "stopped") await sleep(100);
              await prisma().deployment.updateMany({ where: { pipeline: { name } }, data: { maxParallelism: null, stages: ["main"] } });
              await resume(principal, "bench", name);
            }
            while ((await pipelineStatus(principal, "bench", name) as { actualState?: string }).actualState !== "running") await sleep(100);
            const lat: number[] = [];
            const c = kafka.consumer({ groupId: `bench-hop-${name}`, maxWaitTimeInMs: 5 });
            await c.connect();
            await c.subscribe({ topics: [lsink], fromBeginning: true });
            await c.run({ eachBatch: async ({ batch }) => { const now = Date.now(); for (const m of batch.messages) lat.push(now - (JSON.parse(m.value!.toString()) as { window_end: number }).window_end); } });
            await sleep(2_000);
            const start = Date.now();
            let i = 0;
            while (Date.now() - start < 10_000) {
              const due = Math.floor(((Date.now() - start) / 1000) * 10_000);
              const msgs = [];
              for (; i < due; i++) msgs.push({ partition: i % 2, value: JSON.stringify({ user_id: `user-${i % 100}`, ts: Date.now() }) });
              if (msgs.length) await producer.send({ topic: lsrc, acks: -1, messages: msgs });
              await sleep(5);
            }
            await sleep(2_000);
            await c.disconnect();
            await stop(principal, "bench", name);
            lat.sort((a, b) => a - b);
            const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
            const key = `${layout}, ${guarantee}`;
            if (!hop.has(key)) hop.set(key, { p50: [], p99: [] });
            hop.get(key)!.p50.push(q(0.5));
            hop.get(key)!.p99.push(q(0.99));
          }
        }
      }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      if (LAT_RUNS > 0) {
        console.log(`\n| Window result latency at 10k records/s (100 ms windows, bound 0; median of ${LAT_RUNS} runs of 10 s) | p50 ms | p99 ms | p99 of each run |\n|---|---|---|---|`);
        for (const [key, v] of hop) console.log(`| ${key} | ${med(v.p50)} | ${med(v.p99)} | ${v.p99.join(" · ")} |`);
        for (const g of HOP_GUARANTEES) {
          const one = hop.get(`one stage, ${g}`)!;
          const two = hop.get(`two stages (repartition hop), ${g}`)!;
          console.log(`extra latency of the hop, ${g}: p50 ${med(two.p50) - med(one.p50)} ms, p99 ${med(two.p99) - med(one.p99)} ms`);
        }
      }
    }

    await producer.disconnect();
    await admin.disconnect();
  } finally {
    // SIGTERM first: workers shut down cleanly (and write a CPU profile when asked to).
    await Promise.all(workers.map((w) => new Promise<void>((res) => {
      if (w.exitCode !== null || w.signalCode !== null) return res();
      const t = setTimeout(() => { w.kill("SIGKILL"); res(); }, 10_000);
      w.once("exit", () => { clearTimeout(t); res(); });
      w.kill("SIGTERM");
    })));
    const { closeKafka } = await import("@/lib/kafka/shared");
    const { closeTaskQueue } = await import("@/lib/runtime/task-queue");
    const { disconnectPrisma } = await import("@/lib/db/prisma");
    const { closeRedis } = await import("@/lib/redis/client");
    const { closeClickHouse } = await import("@/lib/clickhouse/client");
    await Promise.allSettled([closeKafka(), closeTaskQueue(), disconnectPrisma(), closeRedis(), closeClickHouse()]);
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
