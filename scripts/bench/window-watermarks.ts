/**
 * npm run bench -- watermarks   [--records=N]
 *
 * Reproduces the table of issue 17 with the current code: a 20,000-record
 * click workload (event times ~20 per second, ±4 s jitter), a tumbling 60 s
 * count per `ad`, parallelism 1, exactly_once, on a 4-partition source (a
 * backlog produced before deploy; records produced after deploy in
 * 5,000-record calls, bound 5 s and 10 s) and on a 1-partition source.
 * For each row: the records counted in the window output and the records on
 * the late output, beside the single-process reference — the same plan over
 * the records in the order they were produced, one watermark — whose late
 * records are the "truly late" ones. A record on time in that order must
 * never be late in the deployment (the bench checks it), and counted + late
 * must be every record. Starts its own services in a temp dir.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import getPort from "get-port";
import { startStack, type Stack } from "../services/local-stack";
import { clickKey, clickSchema, clicks, countSchema, readTopic, reference, windowCountPipeline, type Click } from "../testing/window-workload";

const root = fileURLToPath(new URL("../..", import.meta.url));
const arg = (name: string, fallback: number) => Number(process.argv.find((x) => x.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const RECORDS = arg("records", 20_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-wm-"));
  chmodSync(dir, 0o755);
  const secret = () => randomBytes(16).toString("hex");
  const stack: Stack = await startStack({
    root, dataDir: dir, external: {},
    ports: { postgres: await getPort(), redis: await getPort(), clickhouseHttp: await getPort(), clickhouseTcp: await getPort(), kafka: await getPort() },
    secrets: { postgresPassword: secret(), redisPassword: secret(), clickhousePassword: secret() },
  });
  Object.assign(process.env, stack.env, { BETTER_AUTH_SECRET: randomBytes(32).toString("base64"), SLUICE_URL: "http://localhost:3000", LOG_LEVEL: "silent" });
  let worker: ChildProcess | undefined;
  try {
    const { createUser } = await import("@/lib/users/create-user");
    const { createTeam } = await import("@/lib/teams/teams");
    const { createStream } = await import("@/lib/warehouse/streams");
    const { createPipeline, saveVersion } = await import("@/lib/pipelines/pipelines");
    const { deploy, stop } = await import("@/lib/pipelines/deployments");
    const { pipelineStatus } = await import("@/lib/pipelines/status");
    const { kafka, kafkaProducer } = await import("@/lib/kafka/shared");
    const u = await createUser({ email: "bench@example.test", name: "Bench", password: randomBytes(18).toString("base64url") });
    const principal = { kind: "user" as const, userId: u.id, email: u.email, name: u.name };
    await createTeam(principal, { name: "Bench", slug: "bench" });
    worker = spawn(process.execPath, ["--import", "tsx", join(root, "workers/task-worker.ts")], { cwd: root, env: { ...process.env, WORKER_NAME: "bench-wm", WORKER_SLOTS: "2", LOG_LEVEL: "warn" }, stdio: "ignore" });

    const base = Date.UTC(2026, 11, 4, 8, 0, 0);
    const records = clicks({ count: RECORDS, perSecond: 20, jitterMs: 4_000, ads: 20, start: base, seed: 17 });
    const end = Math.max(...records.map((r) => r.ts));
    const partitionOf = (c: Click, partitions: number) => (c.ad!.startsWith("closer-") ? Number(c.ad!.slice(7)) : Number(c.ad!.slice(3)) % partitions);
    const producer = await kafkaProducer();
    const produce = async (topic: string, list: readonly Click[], partitions: number) => {
      for (let i = 0; i < list.length; i += 1_000) {
        await producer.send({ topic, acks: -1, messages: list.slice(i, i + 1_000).map((c) => ({ key: c.ad, value: JSON.stringify({ pad: null, ...c }), partition: partitionOf(c, partitions) })) });
      }
    };

    const cases = [
      { partitions: 4, arrival: "produced before deploy (a backlog)", bound: "5s", backlog: true },
      { partitions: 4, arrival: "produced after deploy, in 5,000-record calls", bound: "5s", backlog: false },
      { partitions: 4, arrival: "same", bound: "10s", backlog: false },
      { partitions: 1, arrival: "same", bound: "5s", backlog: false },
    ];
    console.log(`| source stream | how the data arrived | out-of-orderness | records counted (of ${RECORDS.toLocaleString()}) | late output | truly late (reference, production order) | late ⊆ truly late | counted + late |`);
    console.log("|---|---|---|---|---|---|---|---|");
    let n = 0;
    for (const c of cases) {
      const id = n++;
      const source = `ods.wm-clicks-${id}`;
      const sink = `dws.wm-counts-${id}`;
      const lateSink = `dwd.wm-late-${id}`;
      await createStream(principal, "bench", { name: source, layer: "ODS", partitions: c.partitions, schema: clickSchema as never, retentionMs: null });
      await createStream(principal, "bench", { name: sink, layer: "DWS", partitions: 1, schema: countSchema as never, retentionMs: null });
      await createStream(principal, "bench", { name: lateSink, layer: "DWD", partitions: 1, schema: clickSchema as never, retentionMs: null });
      const def = windowCountPipeline({ source, sink, lateSink, size: "1m", bound: c.bound });
      const name = `wm-${id}`;
      await createPipeline(principal, "bench", { name });
      await saveVersion(principal, "bench", name, { pipeline: def });
      // One record per partition 10 minutes past the end: the watermark then passes every window of the workload.
      const closers: Click[] = Array.from({ length: c.partitions }, (_, p) => ({ ad: `closer-${p}`, ts: end + 600_000, seq: 1_000_000 + p }));
      if (c.backlog) await produce(source, [...records, ...closers], c.partitions);
      await deploy(principal, "bench", name, { deliveryGuarantee: "exactly_once", parallelism: 1 });
      for (let st = await pipelineStatus(principal, "bench", name); !(st.deployed && st.tasks[0]?.state === "running"); st = await pipelineStatus(principal, "bench", name)) await sleep(200);
      if (!c.backlog) {
        for (let i = 0; i < records.length; i += 5_000) {
          await produce(source, records.slice(i, i + 5_000), c.partitions);
          await sleep(1_000);
        }
        await produce(source, closers, c.partitions);
      }
      const measure = async () => {
        const out = (await readTopic(kafka(), sink, 1)).filter((r) => !String(r.ad).startsWith("closer-"));
        const late = await readTopic(kafka(), lateSink, 1);
        return { counted: out.reduce((a, r) => a + (r.n as number), 0), late, rows: out.length };
      };
      let m = await measure();
      const deadline = Date.now() + 180_000;
      while (m.counted + m.late.length < RECORDS && Date.now() < deadline) {
        await sleep(1_000);
        m = await measure();
      }
      await sleep(2_000);
      m = await measure();
      await stop(principal, "bench", name);
      // The truly late records: the same plan over the records in production order, one watermark.
      const ref = await reference(def, source, sink, lateSink, [records]);
      const trulyLate = new Set(ref.late.map(clickKey));
      const subset = m.late.every((r) => trulyLate.has(clickKey(r)));
      console.log(`| ${c.partitions} partition${c.partitions > 1 ? "s" : ""} | ${c.arrival} | ${c.bound.replace("s", " s")} | ${m.counted.toLocaleString()} | ${m.late.length} | ${ref.late.length} | ${subset ? "yes" : "**no**"} | ${(m.counted + m.late.length).toLocaleString()} |`);
    }
  } finally {
    if (worker && worker.exitCode === null) {
      await new Promise<void>((res) => {
        const t = setTimeout(() => { worker!.kill("SIGKILL"); res(); }, 10_000);
        worker!.once("exit", () => { clearTimeout(t); res(); });
        worker!.kill("SIGTERM");
      });
    }
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
