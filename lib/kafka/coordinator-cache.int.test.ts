import { randomUUID } from "node:crypto";
import { Kafka, logLevel, type Kafka as KafkaT } from "kafkajs";
import { describe, expect, it } from "vitest";
import { kafkaBrokers } from "./client";
import { cacheCoordinators } from "./coordinator-cache";

/** Runs `n` exactly-once style transactions (produce + offsets + commit) and counts the requests sent by API name. */
async function transactions(kafka: KafkaT, n: number) {
  const topic = `coord-cache-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = kafka.producer({ transactionalId: `tx-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
  const requests = new Map<string, number>();
  producer.on(producer.events.REQUEST, (e) => requests.set(e.payload.apiName, (requests.get(e.payload.apiName) ?? 0) + 1));
  await producer.connect();
  for (let i = 0; i < n; i++) {
    const txn = await producer.transaction();
    await txn.send({ topic, messages: [{ key: "k", value: `v${i}` }] });
    await txn.sendOffsets({ consumerGroupId: `g-${topic}`, topics: [{ topic, partitions: [{ partition: 0, offset: String(i + 1) }] }] });
    await txn.commit();
  }
  await producer.disconnect();
  const end = await admin.fetchTopicOffsets(topic);
  const committed = await admin.fetchOffsets({ groupId: `g-${topic}`, topics: [topic] });
  await admin.disconnect();
  return { requests, end: Number(end[0].high), committed: Number(committed[0].partitions[0].offset) };
}

const client = () => new Kafka({ brokers: kafkaBrokers()!, logLevel: logLevel.NOTHING, clientId: "coordinator-cache-test" });

describe("coordinator cache", () => {
  it("keeps FindCoordinator (kafkajs: GroupCoordinator) off the per-transaction path, and transactions still commit data and offsets", async () => {
    const plain = await transactions(client(), 10);
    const cached = await transactions(cacheCoordinators(client(), 60_000), 10);
    // kafkajs asks four times per transaction without the cache (AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn).
    expect(plain.requests.get("GroupCoordinator")).toBeGreaterThanOrEqual(40);
    // With it: once per coordinator kind (transaction, group), plus InitProducerId's own lookup.
    expect(cached.requests.get("GroupCoordinator")).toBeLessThanOrEqual(3);
    expect(cached.requests.get("EndTxn")).toBe(10);
    for (const r of [plain, cached]) {
      // 10 records + 10 commit markers; the group's committed offset is the last one sent.
      expect(r.end).toBe(20);
      expect(r.committed).toBe(10);
    }
  });

  it("asks again once an answer is older than the TTL", async () => {
    const few = await transactions(cacheCoordinators(client(), 0), 3);
    expect(few.requests.get("GroupCoordinator")).toBeGreaterThanOrEqual(12);
  });
});
