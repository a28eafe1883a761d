import { CompressionTypes } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BATCH, buildBatch, computeCrc } from "../src/protocol/record-batch";
import { Writer } from "../src/protocol/writer";
import { BrokerProcess, LISTENERS, kafka, kcat } from "./harness";
import { WireClient, produceBatch } from "./wire";

// The conformance checks run through every kind of listener: plaintext, TLS (with client
// certificates), and SASL with each mechanism over TLS and without.
describe.each(LISTENERS)("through a $name listener", (listener) => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await BrokerProcess.start([], listener);
  });
  afterAll(async () => {
    await broker?.destroy();
  });

  async function createTopic(topic: string, numPartitions: number, configEntries: { name: string; value: string }[] = []) {
    const admin = kafka(broker).admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions, configEntries }], waitForLeaders: true })).toBe(true);
    } finally {
      await admin.disconnect();
    }
  }

  describe("produce and consume with kafkajs", () => {
    it("round-trips keys, headers and timestamps across partitions, in order per partition", async () => {
      const topic = "pc-multi";
      await createTopic(topic, 4);
      const client = kafka(broker);
      const producer = client.producer();
      await producer.connect();
      const base = Date.now() - 60_000;
      const sent = Array.from({ length: 400 }, (_, i) => ({
        key: `user-${i % 17}`,
        value: JSON.stringify({ i }),
        timestamp: String(base + i),
        headers: { source: `s${i % 3}`, seq: String(i) },
      }));
      for (let i = 0; i < sent.length; i += 50) {
        await producer.send({ topic, messages: sent.slice(i, i + 50), acks: -1 });
      }
      await producer.send({ topic, compression: CompressionTypes.GZIP, messages: [{ key: "gz", value: "compressed" }] });
      await producer.disconnect();

      const consumer = client.consumer({ groupId: "pc-multi-group", maxWaitTimeInMs: 200 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const got: { partition: number; offset: number; key: string; value: string; ts: string; headers: Record<string, string> }[] = [];
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            got.push({
              partition,
              offset: Number(message.offset),
              key: message.key!.toString(),
              value: message.value!.toString(),
              ts: message.timestamp,
              headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
            });
            if (got.length === sent.length + 1) resolve();
          },
        });
      });
      await consumer.disconnect();

      expect(new Set(got.map((g) => g.partition)).size).toBeGreaterThan(1);
      // The same key always lands on one partition, and that partition keeps send order.
      const partitionOfKey = new Map<string, number>();
      for (const g of got) {
        if (partitionOfKey.has(g.key)) expect(partitionOfKey.get(g.key)).toBe(g.partition);
        partitionOfKey.set(g.key, g.partition);
      }
      for (let p = 0; p < 4; p++) {
        const seqs = got.filter((g) => g.partition === p && g.key !== "gz").map((g) => Number(g.headers.seq));
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        const offsets = got.filter((g) => g.partition === p).map((g) => g.offset);
        expect(offsets).toEqual(offsets.map((_, i) => i));
      }
      for (const g of got.filter((x) => x.key !== "gz")) {
        const i = JSON.parse(g.value).i as number;
        expect(g.key).toBe(sent[i].key);
        expect(g.ts).toBe(sent[i].timestamp);
        expect(g.headers).toEqual(sent[i].headers);
      }
      expect(got.find((g) => g.key === "gz")?.value).toBe("compressed");
    });

    it("answers ListOffsets for earliest, latest and by timestamp", async () => {
      const topic = "pc-offsets";
      await createTopic(topic, 1);
      const client = kafka(broker);
      const producer = client.producer();
      await producer.connect();
      const t0 = Date.now() - 100_000;
      for (let i = 0; i < 10; i++) {
        await producer.send({ topic, messages: [{ value: `v${i}`, timestamp: String(t0 + i * 1000) }] });
      }
      await producer.disconnect();
      const admin = client.admin();
      await admin.connect();
      const [p] = await admin.fetchTopicOffsets(topic);
      expect(p).toMatchObject({ partition: 0, low: "0", high: "10", offset: "10" });
      const [byTime] = await admin.fetchTopicOffsetsByTimestamp(topic, t0 + 4500);
      expect(byTime.offset).toBe("5");

      // Inside one batch (plain and gzip'd) the answer is the exact record, as Kafka gives it.
      for (const compression of [CompressionTypes.None, CompressionTypes.GZIP]) {
        const batched = `${topic}-batch-${compression}`;
        await createTopic(batched, 1);
        const p2 = client.producer();
        await p2.connect();
        await p2.send({ topic: batched, compression, messages: Array.from({ length: 30 }, (_, i) => ({ value: `b${i}`, timestamp: String(t0 + i * 1000) })) });
        await p2.disconnect();
        const [inside] = await admin.fetchTopicOffsetsByTimestamp(batched, t0 + 20_500);
        expect(inside.offset).toBe("21");
        const [exact] = await admin.fetchTopicOffsetsByTimestamp(batched, t0 + 7_000);
        expect(exact.offset).toBe("7");
      }
      await admin.disconnect();
    });
  });

  describe("interoperates with librdkafka (kcat)", () => {
    it("lists metadata, produces with kcat, consumes with kafkajs and the other way round", async () => {
      const topic = "pc-kcat";
      await createTopic(topic, 3);
      const meta = JSON.parse(await kcat([...broker.kcatArgs(), "-L", "-J", "-t", topic])) as {
        brokers: { id: number; name: string }[];
        topics: { topic: string; partitions: unknown[] }[];
      };
      expect(meta.brokers).toEqual([expect.objectContaining({ id: 0, name: broker.brokers })]);
      expect(meta.topics).toEqual([expect.objectContaining({ topic, partitions: expect.any(Array) })]);
      expect(meta.topics[0].partitions).toHaveLength(3);

      const lines = Array.from({ length: 300 }, (_, i) => `k${i % 10}:value-${i}`);
      await kcat([...broker.kcatArgs(), "-P", "-t", topic, "-K:", "-z", "gzip", "-H", "origin=kcat"], lines.join("\n") + "\n");

      const client = kafka(broker);
      const consumer = client.consumer({ groupId: "pc-kcat-reader", maxWaitTimeInMs: 200 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const got: string[] = [];
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            expect(message.headers?.origin?.toString()).toBe("kcat");
            got.push(`${message.key}:${message.value}`);
            if (got.length === lines.length) resolve();
          },
        });
      });
      await consumer.disconnect();
      expect([...got].sort()).toEqual([...lines].sort());

      const producer = client.producer();
      await producer.connect();
      await producer.send({ topic, messages: [{ key: "from", value: "kafkajs", headers: { h: "1" } }] });
      await producer.disconnect();
      const out = await kcat([...broker.kcatArgs(), "-C", "-t", topic, "-e", "-q", "-f", "%k=%s|%h\\n"]);
      expect(out.split("\n").filter(Boolean)).toHaveLength(301);
      expect(out).toContain("from=kafkajs|h=1");
    });

    it("runs a kcat balanced consumer (-G) that resumes from its committed offsets", async () => {
      const topic = "pc-kcat-group";
      await createTopic(topic, 2);
      await kcat([...broker.kcatArgs(), "-P", "-t", topic], Array.from({ length: 50 }, (_, i) => `m${i}`).join("\n") + "\n");
      const first = await kcat([...broker.kcatArgs(), "-G", "kcat-group", "-X", "auto.offset.reset=earliest", "-e", "-q", topic]);
      expect(first.split("\n").filter(Boolean).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`).sort());
      await kcat([...broker.kcatArgs(), "-P", "-t", topic], "late1\nlate2\n");
      const second = await kcat([...broker.kcatArgs(), "-G", "kcat-group", "-X", "auto.offset.reset=earliest", "-e", "-q", topic]);
      expect(second.split("\n").filter(Boolean).sort()).toEqual(["late1", "late2"]);
    });

    it("refuses compression codecs it does not store with UNSUPPORTED_COMPRESSION_TYPE", async () => {
      // librdkafka checks broker features and never sends lz4 here, so speak the wire directly.
      const topic = "pc-lz4";
      await createTopic(topic, 1);
      const c = await WireClient.connect(broker);
      const batch = buildBatch({ baseOffset: 0, records: [{ key: null, value: Buffer.from("v"), timestamp: Date.now() }] });
      batch.writeInt16BE(3, BATCH.ATTRIBUTES); // lz4
      batch.writeUInt32BE(computeCrc(batch), BATCH.CRC);
      expect((await produceBatch(c, topic, 0, batch)).errorCode).toBe(76);
      const corrupt = buildBatch({ baseOffset: 0, records: [{ key: null, value: Buffer.from("v"), timestamp: Date.now() }] });
      corrupt[corrupt.length - 1] ^= 0xff;
      expect((await produceBatch(c, topic, 0, corrupt)).errorCode).toBe(2);
      const fine = buildBatch({ baseOffset: 0, records: [{ key: null, value: Buffer.from("v"), timestamp: Date.now() }] });
      expect(await produceBatch(c, topic, 0, fine)).toEqual({ errorCode: 0, baseOffset: 0 });
      c.close();
    });
  });

  describe("protocol edge cases", () => {
    it("answers an unsupported ApiVersions version with error 35 and the supported list", async () => {
      const c = await WireClient.connect(broker);
      const r = await c.request(18, 9, () => undefined);
      expect(r.int16()).toBe(35);
      const apis = r.array((r) => ({ key: r.int16(), min: r.int16(), max: r.int16() }));
      expect(apis).toContainEqual({ key: 0, min: 3, max: 7 });
      expect(apis).toContainEqual({ key: 18, min: 0, max: 2 });
      expect(apis.map((a) => a.key)).toEqual(expect.arrayContaining([1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 19, 20, 21, 22, 24, 25, 26, 28, 32, 33, 37, 42]));
      c.close();
    });

    it("answers an unknown API with an error code instead of hanging", async () => {
      const c = await WireClient.connect(broker);
      const r = await c.request(57, 0, (w: Writer) => w.int32(0));
      expect(r.int16()).toBe(35);
      c.close();
    });

    it("closes only the connection that sent a malformed frame", async () => {
      const bad = await WireClient.connect(broker);
      const good = await WireClient.connect(broker);
      // A Metadata request whose topic array claims a million entries that are not there.
      const w = new Writer();
      const at = w.placeholder32();
      w.int16(3).int16(1).int32(7).string("bad").int32(1_000_000);
      w.patch32(at, w.pos - 4);
      bad.sendRaw(Buffer.from(w.view()));
      expect(await bad.waitClosed()).toBe(true);
      const r = await good.request(18, 0, () => undefined);
      expect(r.int16()).toBe(0);
      good.close();
    });
  });
});
