/**
 * Broker benchmark: `npx tsx broker/bench/main.ts` (wired as `npm run bench -- broker`).
 * Starts its own broker on a free port with a temp data dir, measures produce/consume
 * throughput and acks=all produce latency with kafkajs and kcat (librdkafka), and prints
 * a markdown table. Baselines measured in the same run: a raw fsync'd file append of the
 * same bytes (produce), and kafkajs decode vs. raw fetch bytes (consume).
 */
import { spawn } from "node:child_process";
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CompressionTypes, logLevel, Kafka } from "kafkajs";
import { buildBatch } from "../src/protocol/record-batch";
import { BrokerProcess } from "../test/harness";
import { WireClient, produceBatch } from "../test/wire";

const BATCH = 1000;
const rows: string[][] = [];
const note = (...cells: (string | number)[]) => rows.push(cells.map(String));
const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2));

/** User+system CPU of a process in ms, from /proc (Linux); shows who the bottleneck is. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function timeIt<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  return fn().then((value) => ({ ms: performance.now() - t0, value }));
}

function run(cmd: string, args: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: [input === undefined ? "ignore" : "pipe", "ignore", "pipe"] });
    let err = "";
    c.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    c.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${code}: ${err}`))));
    if (input !== undefined) c.stdin!.end(input);
  });
}

/** Baseline: append the same batch bytes to a file with one fsync per batch (no broker at all). */
function rawAppend(dir: string, batches: number, recordBytes: number): number {
  const batch = buildBatch({
    baseOffset: 0,
    records: Array.from({ length: BATCH }, () => ({ key: null, value: Buffer.alloc(recordBytes, 120), timestamp: Date.now() })),
  });
  const fd = openSync(join(dir, "raw.log"), "w");
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) {
    writeSync(fd, batch);
    fsyncSync(fd);
  }
  const ms = performance.now() - t0;
  closeSync(fd);
  return (batches * BATCH) / (ms / 1000);
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(os.tmpdir(), "sluice-broker-bench-"));
  const broker = await BrokerProcess.start(["--log-level", "error"]);
  const brokers = broker.brokers;
  const kafka = new Kafka({ brokers: [brokers], clientId: "bench", logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const size of [100, 1024]) {
      const topic = `bench-${size}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
      const totalBatches = size === 100 ? 400 : 100;
      const total = totalBatches * BATCH;
      const mb = (records: number) => (records * size) / 1e6;

      const raw = rawAppend(scratch, Math.min(totalBatches, 200), size);
      note(`raw fsync'd append (baseline), ${size} B`, fmt(raw), fmt(mb(raw)), "1.00", "");

      // kafkajs: 4 producers, each with several batches of 1000 in flight, acks=all.
      const value = Buffer.alloc(size, 97);
      const messages = Array.from({ length: BATCH }, (_, i) => ({ key: `k${i}`, value }));
      const producers = await Promise.all(
        [0, 1, 2, 3].map(async () => {
          const p = kafka.producer({ allowAutoTopicCreation: false });
          await p.connect();
          return p;
        }),
      );
      const perProducer = totalBatches / producers.length;
      const brokerCpu0 = cpuMs(broker.pid);
      const clientCpu0 = process.cpuUsage();
      const kjs = await timeIt(() =>
        Promise.all(
          producers.map(async (p, pi) => {
            for (let i = 0; i < perProducer; i += 4) {
              await Promise.all(
                [0, 1, 2, 3].map((j) =>
                  p.send({ topic, acks: -1, compression: CompressionTypes.None, messages: messages.map((m) => ({ ...m, partition: (pi + j) % 4 })) }),
                ),
              );
            }
          }),
        ),
      );
      const kjsRate = total / (kjs.ms / 1000);
      const brokerUs = ((cpuMs(broker.pid) - brokerCpu0) * 1000) / total;
      const client = process.cpuUsage(clientCpu0);
      const clientUs = (client.user + client.system) / total;
      note(
        `kafkajs produce, ${size} B, acks=all, batches of ${BATCH}`,
        fmt(kjsRate),
        fmt(mb(kjsRate)),
        (kjsRate / raw).toFixed(2),
        `CPU per record: broker ${brokerUs.toFixed(2)} µs, kafkajs ${clientUs.toFixed(2)} µs`,
      );

      // The same with the encoding spread over two kafkajs processes (one JS thread each).
      const procs = [0, 1].map((i) => {
        const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./kafkajs-producer.ts", import.meta.url)), brokers, topic, String(totalBatches / 2), String(size), String(i * 2)], {
          stdio: ["pipe", "pipe", "inherit"],
        });
        let out = "";
        const line = (want: string) =>
          new Promise<void>((resolve, reject) => {
            const check = () => (out.includes(want) ? resolve() : undefined);
            child.stdout!.on("data", (d: Buffer) => {
              out += d.toString();
              check();
            });
            child.once("exit", (code) => (out.includes(want) ? resolve() : reject(new Error(`bench producer exited ${code}`))));
            check();
          });
        return { child, ready: line("ready"), done: () => line("done") };
      });
      await Promise.all(procs.map((p) => p.ready));
      const multi = await timeIt(async () => {
        const done = procs.map((p) => p.done());
        for (const p of procs) p.child.stdin!.end("go\n");
        await Promise.all(done);
      });
      const multiRate = total / (multi.ms / 1000);
      note(`kafkajs produce, 2 processes, ${size} B, acks=all, batches of ${BATCH}`, fmt(multiRate), fmt(mb(multiRate)), (multiRate / raw).toFixed(2), "client encoding on both cores");

      // Pre-encoded batches over the bare protocol: the broker's own ingest rate, without
      // client-side encoding cost (4 connections × 8 produce requests in flight, acks=all).
      const preEncoded = buildBatch({
        baseOffset: 0,
        records: Array.from({ length: BATCH }, (_, i) => ({ key: Buffer.from(`k${i}`), value, timestamp: Date.now() })),
      });
      const conns = await Promise.all([0, 1, 2, 3].map(() => WireClient.connect(broker.port)));
      const wireProduce = await timeIt(() =>
        Promise.all(
          conns.map(async (c, ci) => {
            for (let i = 0; i < perProducer; i += 8) {
              const sends = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => produceBatch(c, topic, (ci + j) % 4, Buffer.from(preEncoded)));
              for (const r of await Promise.all(sends)) if (r.errorCode !== 0) throw new Error(`produce error ${r.errorCode}`);
            }
          }),
        ),
      );
      for (const c of conns) c.close();
      const wireRate = total / (wireProduce.ms / 1000);
      note(`pre-encoded produce over the wire, ${size} B, acks=all, batches of ${BATCH}`, fmt(wireRate), fmt(mb(wireRate)), (wireRate / raw).toFixed(2), "broker ingest without client encoding");

      // kcat (librdkafka): one process, acks=all, linger to fill batches of up to 1000.
      const line = "b".repeat(size - 1);
      const input = `${Array.from({ length: total }, () => line).join("\n")}\n`;
      const kc = await timeIt(() =>
        run(
          "kcat",
          ["-b", brokers, "-P", "-t", topic, "-X", "acks=all", "-X", "linger.ms=5", "-X", `batch.num.messages=${BATCH}`, "-X", "queue.buffering.max.messages=1000000"],
          input,
        ),
      );
      const kcRate = total / (kc.ms / 1000);
      note(`kcat produce, ${size} B, acks=all, batches ≤${BATCH}`, fmt(kcRate), fmt(mb(kcRate)), (kcRate / raw).toFixed(2), "");

      // acks=all latency: one record per send, sequential, after warm-up.
      const lat: number[] = [];
      const p0 = producers[0];
      for (let i = 0; i < 1200; i++) {
        const t0 = performance.now();
        await p0.send({ topic, acks: -1, messages: [{ value, partition: 0 }] });
        if (i >= 200) lat.push(performance.now() - t0);
      }
      lat.sort((a, b) => a - b);
      const p50 = lat[Math.floor(lat.length * 0.5)];
      const p99 = lat[Math.floor(lat.length * 0.99)];
      note(`kafkajs produce latency, ${size} B, acks=all, 1 record/send`, "", "", "", `p50 ${p50.toFixed(2)} ms / p99 ${p99.toFixed(2)} ms`);
      await Promise.all(producers.map((p) => p.disconnect()));

      const inLog = total * 4 + 1200;
      // kafkajs consumer: decode every record of the topic.
      const consumer = kafka.consumer({ groupId: `bench-${size}-${Date.now()}`, maxBytes: 50 << 20, maxBytesPerPartition: 10 << 20 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      let seen = 0;
      const kjsConsume = await timeIt(
        () =>
          new Promise<void>((resolve) => {
            void consumer.run({
              autoCommit: false,
              eachBatch: async ({ batch }) => {
                seen += batch.messages.length;
                if (seen >= inLog) resolve();
              },
            });
          }),
      );
      await consumer.disconnect();
      const kjsConsumeRate = seen / (kjsConsume.ms / 1000);

      // Raw Fetch: what the broker serves when the client does not decode (upper bound for consumers).
      const wire = await WireClient.connect(broker.port);
      const rawFetch = await timeIt(async () => {
        const offsets = [0, 0, 0, 0];
        let records = 0;
        while (records < inLog) {
          const r = await wire.request(1, 4, (w) => {
            w.int32(-1).int32(100).int32(1).int32(50 << 20).int8(0);
            w.int32(1).string(topic).int32(4);
            for (let p = 0; p < 4; p++) w.int32(p).int64(offsets[p]).int32(10 << 20);
          });
          r.int32();
          r.int32();
          r.string();
          const n = r.int32();
          for (let i = 0; i < n; i++) {
            const p = r.int32();
            r.int16();
            r.int64();
            r.int64();
            r.nullableArray((r) => [r.int64(), r.int64()]);
            const set = r.bytes();
            let at = 0;
            while (at + 61 <= set.length) {
              const base = Number(set.readBigInt64BE(at));
              const len = set.readInt32BE(at + 8) + 12;
              if (at + len > set.length) break;
              records += set.readInt32BE(at + 57);
              offsets[p] = base + set.readInt32BE(at + 23) + 1;
              at += len;
            }
          }
        }
        return records;
      });
      wire.close();
      const rawRate = rawFetch.value / (rawFetch.ms / 1000);
      note(`raw Fetch (no decode), ${size} B`, fmt(rawRate), fmt(mb(rawRate)), (rawRate / kjsConsumeRate).toFixed(2), "vs kafkajs consumer");
      note(`kafkajs consumer (decodes), ${size} B`, fmt(kjsConsumeRate), fmt(mb(kjsConsumeRate)), "1.00", "");

      const kcc = await timeIt(() => run("kcat", ["-b", brokers, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "\\n"]));
      const kccRate = inLog / (kcc.ms / 1000);
      note(`kcat consumer, ${size} B`, fmt(kccRate), fmt(mb(kccRate)), (kccRate / kjsConsumeRate).toFixed(2), "vs kafkajs consumer");
    }
  } finally {
    await admin.disconnect();
    await broker.destroy();
    rmSync(scratch, { recursive: true, force: true });
  }
  const header = ["measurement", "records/s", "MB/s", "ratio", "notes"];
  const lines = [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`);
  process.stdout.write(
    `Broker benchmark — ${new Date().toISOString()} — ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, Node ${process.version}, fsync=ack (group commit)\n\n${lines.join("\n")}\n`,
  );
  writeFileSync(join(os.tmpdir(), "sluice-broker-bench.md"), lines.join("\n"));
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
