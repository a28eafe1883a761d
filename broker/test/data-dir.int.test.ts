import { spawn } from "node:child_process";
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import getPort from "get-port";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { BrokerProcess, kafka, waitFor } from "./harness";

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await BrokerProcess.start(["--cleaner-interval-ms", "200"]);
});
afterAll(async () => {
  await broker?.destroy();
});

async function produce(topic: string, values: string[]): Promise<void> {
  const producer = kafka(broker).producer({ idempotent: true });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key: value, value })) });
  await producer.disconnect();
}

async function readAll(topic: string, expected: number): Promise<string[]> {
  const consumer = kafka(broker).consumer({ groupId: `read-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: string[] = [];
  void consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
  await waitFor(() => got.length >= expected, `${expected} records from ${topic}`);
  await consumer.disconnect();
  return got;
}

async function createTopic(topic: string, configEntries: { name: string; value: string }[] = []) {
  const admin = kafka(broker).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries }] });
  await admin.disconnect();
}

/** Every file and directory under `dir` with its permission bits. */
function modes(dir: string): { path: string; dir: boolean; mode: number }[] {
  const out = [{ path: dir, dir: true, mode: statSync(dir).mode & 0o777 }];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...modes(p));
    else out.push({ path: p, dir: false, mode: statSync(p).mode & 0o777 });
  }
  return out;
}

describe("the data-dir lock", () => {
  it("refuses a second broker on the same data dir and names the running one's pid", async () => {
    const second = new BrokerProcess(broker.dataDir);
    second.port = await getPort();
    await expect(second.restart()).rejects.toThrow(new RegExp(`exited with 1[\\s\\S]*in use by another broker \\(pid ${broker.pid}\\)`));
    // The refused broker changed nothing: the running one still serves.
    await createTopic("lock-still-serving");
  });

  it("is released by the kernel when the broker is killed: start after kill -9, five times in a row, losing nothing", async () => {
    const topic = "lock-kill9";
    await createTopic(topic);
    for (let round = 0; round < 5; round++) {
      await produce(topic, [`round-${round}`]);
      const killed = broker.pid;
      await broker.kill9();
      // The lock file is left behind with the dead broker's pid, as after a container restart.
      expect(readFileSync(join(broker.dataDir, "broker.lock"), "utf8").trim()).toBe(String(killed));
      await broker.restart();
    }
    expect((await readAll(topic, 5)).sort()).toEqual(["round-0", "round-1", "round-2", "round-3", "round-4"]);
  });

  it("ignores a lock file whose pid is now another live process, or a zombie", async () => {
    await broker.stop();
    // After a container restart the old pid may belong to anything: here, the test runner itself.
    writeFileSync(join(broker.dataDir, "broker.lock"), `${process.pid}\n`);
    await broker.restart();
    expect(readFileSync(join(broker.dataDir, "broker.lock"), "utf8").trim()).toBe(String(broker.pid));

    // A zombie still "exists" for kill(pid, 0): sh backgrounds a short sleep, then execs into a long
    // one, which never reaps it. The child must outlive the exec: a child that exited before it
    // (`true &`) could be reaped by sh itself, leaving no process at all.
    const parent = spawn("sh", ["-c", "sleep 0.5 & echo $!; exec sleep 60"], { stdio: ["ignore", "pipe", "ignore"] });
    onTestFinished(() => void parent.kill("SIGKILL"));
    let out = "";
    parent.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const zombie = Number(await waitFor(() => /^\d+\n/.exec(out)?.[0], "the zombie's pid"));
    await waitFor(() => readFileSync(`/proc/${zombie}/stat`, "utf8").split(") ")[1]?.startsWith("Z"), "the child to become a zombie");
    await broker.stop();
    writeFileSync(join(broker.dataDir, "broker.lock"), `${zombie}\n`);
    await broker.restart();
    await createTopic("lock-after-zombie");
  });
});

describe("data-dir permissions", () => {
  it("creates every file 0600 and every directory 0700: segments, indexes, compaction output, offsets, transactions", async () => {
    const rolled = "perm-rolled";
    await createTopic(rolled, [{ name: "segment.bytes", value: "1024" }]);
    await produce(rolled, Array.from({ length: 60 }, (_, i) => `value-${i}-${"x".repeat(40)}`));
    const compacted = "perm-compacted";
    await createTopic(compacted, [
      { name: "cleanup.policy", value: "compact" },
      { name: "segment.bytes", value: "1024" },
    ]);
    for (let i = 0; i < 3; i++) await produce(compacted, Array.from({ length: 20 }, (_, k) => `k${k % 4}-${"y".repeat(60)}`));
    const admin = kafka(broker).admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [rolled] });
    await admin.deleteTopicRecords({ topic: rolled, partitions: [{ partition: 0, offset: "10" }] });
    await admin.disconnect();
    const txProducer = kafka(broker).producer({ transactionalId: "perm-tx", idempotent: true, maxInFlightRequests: 1 });
    await txProducer.connect();
    const tx = await txProducer.transaction();
    await tx.send({ topic: rolled, messages: [{ value: "in-a-transaction" }] });
    await tx.commit();
    await txProducer.disconnect();
    await readAll(rolled, 1);
    await waitFor(() => readdirSync(join(broker.dataDir, "logs", `${compacted}-0`)).some((f) => f.endsWith(".index")), "a rolled segment's index");

    const entries = modes(broker.dataDir);
    expect(entries.filter((e) => !e.dir).map((e) => e.path)).toEqual(
      expect.arrayContaining([expect.stringMatching(/broker\.lock$/), expect.stringMatching(/topics\.json$/), expect.stringMatching(/log-start-offset$/), expect.stringMatching(/\.timeindex$/)]),
    );
    expect(entries.filter((e) => e.mode !== (e.dir ? 0o700 : 0o600))).toEqual([]);
  });

  it("tightens a data dir that an older version left readable by everyone, on start, and still serves it", async () => {
    const topic = "perm-old";
    await createTopic(topic);
    await produce(topic, ["kept"]);
    await broker.stop();
    for (const e of modes(broker.dataDir)) chmodSync(e.path, e.dir ? 0o755 : 0o644);
    await broker.restart();
    expect(modes(broker.dataDir).filter((e) => e.mode !== (e.dir ? 0o700 : 0o600))).toEqual([]);
    expect(await readAll(topic, 1)).toEqual(["kept"]);
  });
});
