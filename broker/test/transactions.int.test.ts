import type { Kafka } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBatch } from "../src/protocol/record-batch";
import { BrokerProcess, kafka, waitFor } from "./harness";
import { WireClient, initProducerId, produceBatch } from "./wire";

let broker: BrokerProcess;
let client: Kafka;

beforeAll(async () => {
  broker = await BrokerProcess.start();
  client = kafka(broker);
});
afterAll(async () => {
  await broker?.destroy();
});

async function createTopic(topic: string, numPartitions = 1) {
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
  await admin.disconnect();
}

/**
 * Reads a topic from the beginning with a fresh consumer: waits until it has completed
 * at least three fetches (so an empty answer means "nothing visible", not "not joined
 * yet") and, when given, until `expected` records arrived; then a short grace period
 * catches anything extra.
 */
async function readAll(topic: string, readUncommitted: boolean, expected?: number): Promise<string[]> {
  const consumer = client.consumer({ groupId: `reader-${topic}-${Math.random()}`, readUncommitted, maxWaitTimeInMs: 100 });
  let fetches = 0;
  consumer.on(consumer.events.FETCH, () => void fetches++);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values: string[] = [];
  void consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
  await waitFor(() => fetches >= 3 && (expected === undefined || values.length >= expected), `${expected ?? "any"} records from ${topic}`, 30_000);
  await new Promise((r) => setTimeout(r, 300));
  await consumer.disconnect();
  return values;
}

const batchOf = (producerId: number, epoch: number, baseSequence: number, values: string[]) =>
  buildBatch({
    baseOffset: 0,
    producerId,
    producerEpoch: epoch,
    baseSequence,
    records: values.map((v) => ({ key: null, value: Buffer.from(v), timestamp: Date.now() })),
  });

describe("idempotent producer", () => {
  it("drops a retried batch, answering with the original offset, and refuses sequence gaps", async () => {
    const topic = "idem";
    await createTopic(topic);
    const c = await WireClient.connect(broker.port);
    const { producerId, epoch } = await initProducerId(c);
    const first = batchOf(producerId, epoch, 0, ["a", "b"]);
    expect(await produceBatch(c, topic, 0, Buffer.from(first))).toEqual({ errorCode: 0, baseOffset: 0 });
    // The same batch again, as a client retry after a lost response would send it.
    expect(await produceBatch(c, topic, 0, Buffer.from(first))).toEqual({ errorCode: 0, baseOffset: 0 });
    expect(await produceBatch(c, topic, 0, batchOf(producerId, epoch, 2, ["c"]))).toEqual({ errorCode: 0, baseOffset: 2 });
    // Sequence 3 is missing: OUT_OF_ORDER_SEQUENCE_NUMBER, nothing appended.
    expect((await produceBatch(c, topic, 0, batchOf(producerId, epoch, 4, ["e"]))).errorCode).toBe(45);
    // An older epoch than the partition has seen is fenced.
    expect(await produceBatch(c, topic, 0, batchOf(producerId, epoch + 1, 0, ["x"]))).toEqual({ errorCode: 0, baseOffset: 3 });
    expect((await produceBatch(c, topic, 0, batchOf(producerId, epoch, 3, ["old"]))).errorCode).toBe(47);
    c.close();
    expect(await readAll(topic, true, 4)).toEqual(["a", "b", "c", "x"]);
  });

  it("dedupes across a broker restart because producer state is rebuilt from the log", async () => {
    const topic = "idem-restart";
    await createTopic(topic);
    let c = await WireClient.connect(broker.port);
    const { producerId, epoch } = await initProducerId(c);
    const batch = batchOf(producerId, epoch, 0, ["only-once"]);
    expect(await produceBatch(c, topic, 0, Buffer.from(batch))).toEqual({ errorCode: 0, baseOffset: 0 });
    c.close();
    await broker.kill9();
    await broker.restart();
    c = await WireClient.connect(broker.port);
    expect(await produceBatch(c, topic, 0, Buffer.from(batch))).toEqual({ errorCode: 0, baseOffset: 0 });
    expect((await initProducerId(c)).producerId).not.toBe(producerId);
    c.close();
    expect(await readAll(topic, true, 1)).toEqual(["only-once"]);
  });
});

describe("transactions", () => {
  it("shows committed transactions to read_committed, hides aborted ones, and shows both to read_uncommitted", async () => {
    const topic = "txn-basic";
    await createTopic(topic, 2);
    const producer = client.producer({ transactionalId: "txn-basic-producer", maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    for (const [outcome, n] of [["commit", 1], ["abort", 2], ["commit", 3]] as const) {
      const txn = await producer.transaction();
      await txn.send({ topic, messages: Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: `${outcome}-${n}-${i}` })) });
      if (outcome === "commit") await txn.commit();
      else await txn.abort();
    }
    await producer.disconnect();
    const committed = await readAll(topic, false, 10);
    expect(committed.sort()).toEqual([...Array.from({ length: 5 }, (_, i) => `commit-1-${i}`), ...Array.from({ length: 5 }, (_, i) => `commit-3-${i}`)].sort());
    const everything = await readAll(topic, true, 15);
    expect(everything).toHaveLength(15);
    expect(everything.filter((v) => v.startsWith("abort"))).toHaveLength(5);
  });

  it("holds read_committed consumers at the last stable offset while a transaction is open", async () => {
    const topic = "txn-lso";
    await createTopic(topic);
    const txProducer = client.producer({ transactionalId: "txn-lso-producer", maxInFlightRequests: 1, idempotent: true });
    const plain = client.producer();
    await txProducer.connect();
    await plain.connect();
    const txn = await txProducer.transaction();
    await txn.send({ topic, messages: [{ value: "in-txn" }] });
    await plain.send({ topic, messages: [{ value: "after-txn-start" }] });
    expect(await readAll(topic, false)).toEqual([]);
    expect(await readAll(topic, true, 2)).toEqual(["in-txn", "after-txn-start"]);
    await txn.commit();
    expect(await readAll(topic, false, 2)).toEqual(["in-txn", "after-txn-start"]);
    await txProducer.disconnect();
    await plain.disconnect();
  });

  it("commits consumer offsets with the transaction (sendOffsets) and discards them on abort", async () => {
    const topic = "txn-offsets";
    const groupId = "txn-offsets-group";
    await createTopic(topic);
    const producer = client.producer({ transactionalId: "txn-offsets-producer", maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    const offsetsNow = async () => {
      const admin = client.admin();
      await admin.connect();
      const [r] = await admin.fetchOffsets({ groupId, topics: [topic] });
      await admin.disconnect();
      return r.partitions[0].offset;
    };
    let txn = await producer.transaction();
    await txn.send({ topic, messages: [{ value: "out-1" }] });
    await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: "5" }] }] });
    expect(await offsetsNow()).toBe("-1");
    await txn.commit();
    expect(await offsetsNow()).toBe("5");
    txn = await producer.transaction();
    await txn.send({ topic, messages: [{ value: "out-2" }] });
    await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: "9" }] }] });
    await txn.abort();
    expect(await offsetsNow()).toBe("5");
    await producer.disconnect();
  });

  it("fences the older producer instance when a new one initialises the same transactional id", async () => {
    const topic = "txn-fence";
    await createTopic(topic);
    const zombie = client.producer({ transactionalId: "txn-fence-producer", maxInFlightRequests: 1, idempotent: true });
    await zombie.connect();
    const zombieTxn = await zombie.transaction();
    await zombieTxn.send({ topic, messages: [{ value: "zombie" }] });

    const successor = client.producer({ transactionalId: "txn-fence-producer", maxInFlightRequests: 1, idempotent: true });
    await successor.connect();
    // kafkajs sends InitProducerId for the transactional id when the first transaction begins.
    const txn = await successor.transaction();
    await expect(zombieTxn.commit()).rejects.toThrow(/epoch/i);
    await txn.send({ topic, messages: [{ value: "successor" }] });
    await txn.commit();
    expect(await readAll(topic, false, 1)).toEqual(["successor"]);
    await zombie.disconnect().catch(() => undefined);
    await successor.disconnect();
  });

  it("aborts a transaction that outlives its timeout, fencing its producer", async () => {
    const topic = "txn-timeout";
    await createTopic(topic);
    const producer = client.producer({
      transactionalId: "txn-timeout-producer",
      maxInFlightRequests: 1,
      idempotent: true,
      transactionTimeout: 1000,
    });
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic, messages: [{ value: "too-slow" }] });
    // Timeout 1 s, checked every 0.5 s: 3 s leaves room for a loaded machine.
    await new Promise((r) => setTimeout(r, 3_000));
    await expect(txn.commit()).rejects.toThrow();
    const plain = client.producer();
    await plain.connect();
    await plain.send({ topic, messages: [{ value: "later" }] });
    await plain.disconnect();
    expect(await readAll(topic, false, 1)).toEqual(["later"]);
    expect(await readAll(topic, true, 2)).toEqual(["too-slow", "later"]);
    await producer.disconnect().catch(() => undefined);
  });
});
