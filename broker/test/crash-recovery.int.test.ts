import { appendFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerProcess, kafka, kcat } from "./harness";

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await BrokerProcess.start();
});
afterAll(async () => {
  await broker?.destroy();
});

interface Acked {
  partition: number;
  baseOffset: number;
  values: string[];
}

/** Producers hammer fixed partitions with acks=all, recording every acknowledged batch, until told to stop. */
async function produceUntilKilled(topic: string, partitions: number, producers: number, killAfterMs: number): Promise<Acked[]> {
  const acked: Acked[] = [];
  let stop = false;
  const loops = Array.from({ length: producers }, async (_, id) => {
    const producer = kafka(broker, `crash-producer-${id}`).producer({ retry: { retries: 0 } });
    await producer.connect();
    const partition = id % partitions;
    let seq = 0;
    try {
      while (!stop) {
        const values = Array.from({ length: 50 }, () => `p${id}-${seq++}`);
        const [meta] = await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value, partition })) });
        acked.push({ partition, baseOffset: Number(meta.baseOffset), values });
      }
    } catch {
      // The broker died under us: whatever was not acknowledged may be lost.
    }
    await producer.disconnect().catch(() => undefined);
  });
  await new Promise((r) => setTimeout(r, killAfterMs));
  await broker.kill9();
  stop = true;
  await Promise.all(loops);
  return acked;
}

/** Every acknowledged record at its acknowledged offset, offsets contiguous from 0 (nothing after a gap). */
async function verify(topic: string, partitions: number, acked: Acked[]): Promise<number> {
  const out = await kcat(["-b", broker.brokers, "-C", "-t", topic, "-e", "-q", "-f", "%p %o %s\\n"], undefined, 120_000);
  const byPartition = new Map<number, string[]>();
  for (const line of out.split("\n").filter(Boolean)) {
    const [p, o, v] = line.split(" ");
    const list = byPartition.get(Number(p)) ?? [];
    expect(Number(o)).toBe(list.length);
    list.push(v);
    byPartition.set(Number(p), list);
  }
  for (const a of acked) {
    const log = byPartition.get(a.partition) ?? [];
    expect(log.slice(a.baseOffset, a.baseOffset + a.values.length)).toEqual(a.values);
  }
  for (let p = 0; p < partitions; p++) {
    // Per producer, records appear in send order with no holes.
    const perProducer = new Map<string, number>();
    for (const v of byPartition.get(p) ?? []) {
      const [prod, n] = v.split("-");
      expect(Number(n.replace(/\D/g, ""))).toBe(perProducer.get(prod) ?? 0);
      perProducer.set(prod, Number(n) + 1);
    }
  }
  return [...byPartition.values()].reduce((n, l) => n + l.length, 0);
}

describe("crash recovery", () => {
  it("loses no acknowledged record when killed -9 during heavy produce", async () => {
    const topic = "crash-heavy";
    const admin = kafka(broker).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    await admin.disconnect();

    const acked = await produceUntilKilled(topic, 3, 6, 2_500);
    expect(acked.length).toBeGreaterThan(20);
    await broker.restart();
    const total = await verify(topic, 3, acked);
    expect(total).toBeGreaterThanOrEqual(acked.length * 50);
  });

  it("truncates a torn tail by CRC on restart and keeps serving and appending", async () => {
    const topic = "crash-torn";
    const admin = kafka(broker).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const acked = await produceUntilKilled(topic, 1, 2, 1_000);

    // Simulate a write cut short by power loss: a plausible batch header and half a body.
    const dir = join(broker.dataDir, "logs", `${topic}-0`);
    const segment = readdirSync(dir).filter((f) => f.endsWith(".log")).sort().at(-1)!;
    const before = statSync(join(dir, segment)).size;
    const torn = Buffer.alloc(200, 0xab);
    torn.writeBigInt64BE(999_999n, 0);
    torn.writeInt32BE(500, 8);
    torn.writeInt8(2, 16);
    appendFileSync(join(dir, segment), torn);

    await broker.restart();
    // The warning is logged during start-up, but the logger flushes asynchronously: it may follow "listening".
    await broker.waitForOutput(/truncating torn log tail/, "the torn-tail warning");
    expect(statSync(join(dir, segment)).size).toBe(before);
    await verify(topic, 1, acked);

    const producer = kafka(broker).producer();
    await producer.connect();
    const [meta] = await producer.send({ topic, acks: -1, messages: [{ value: "after-recovery" }] });
    await producer.disconnect();
    const out = await kcat(["-b", broker.brokers, "-C", "-t", topic, "-e", "-q", "-o", String(meta.baseOffset), "-f", "%o %s\\n"]);
    expect(out.trim()).toBe(`${meta.baseOffset} after-recovery`);
  });

  it("with --fsync interval acknowledges before the fsync and still keeps every record across kill -9", async () => {
    // kill -9 loses the process, not the page cache: unsynced but written data survives it.
    const relaxed = await BrokerProcess.start(["--fsync", "interval", "--fsync-interval-ms", "200"]);
    try {
      const client = kafka(relaxed);
      const admin = client.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "relaxed", numPartitions: 1 }] });
      await admin.disconnect();
      const producer = client.producer();
      await producer.connect();
      for (let i = 0; i < 20; i++) {
        await producer.send({ topic: "relaxed", acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ value: `r${i * 10 + j}` })) });
      }
      await producer.disconnect();
      await relaxed.kill9();
      await relaxed.restart();
      const out = await kcat(["-b", relaxed.brokers, "-C", "-t", "relaxed", "-e", "-q"]);
      expect(out.split("\n").filter(Boolean)).toEqual(Array.from({ length: 200 }, (_, i) => `r${i}`));
    } finally {
      await relaxed.destroy();
    }
  });

  it("keeps an acknowledged transaction committed (records, markers, offsets) when killed -9 right after EndTxn", async () => {
    // EndTxn is answered once the markers and offsets are durable; the Complete*
    // state record follows with the next fsync. A crash in between must change nothing.
    const topic = "txn-crash";
    const admin = kafka(broker, "txn-crash-admin").admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    for (let round = 0; round < 3; round++) {
      const producer = kafka(broker, `txn-crash-${round}`).producer({ transactionalId: "txn-crash", idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const txn = await producer.transaction();
      await txn.send({ topic, messages: [{ value: `committed-${round}` }] });
      await txn.sendOffsets({ consumerGroupId: "txn-crash-group", topics: [{ topic, partitions: [{ partition: 0, offset: String(round + 1) }] }] });
      await txn.commit();
      await broker.kill9();
      await producer.disconnect().catch(() => undefined);
      await broker.restart();
    }
    const out = await kcat(["-b", broker.brokers, "-C", "-t", topic, "-e", "-q", "-X", "isolation.level=read_committed", "-f", "%s\\n"]);
    expect(out.split("\n").filter(Boolean)).toEqual(["committed-0", "committed-1", "committed-2"]);
    const after = kafka(broker, "txn-crash-check").admin();
    await after.connect();
    const [committed] = await after.fetchOffsets({ groupId: "txn-crash-group", topics: [topic] });
    await after.disconnect();
    expect(committed.partitions[0].offset).toBe("3");
  });
});
