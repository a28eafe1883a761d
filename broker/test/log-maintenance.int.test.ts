import { CompressionTypes, ConfigResourceTypes, type Kafka } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerProcess, kafka, kcat, waitFor } from "./harness";

let broker: BrokerProcess;
let client: Kafka;

beforeAll(async () => {
  broker = await BrokerProcess.start(["--cleaner-interval-ms", "200"]);
  client = kafka(broker);
});
afterAll(async () => {
  await broker?.destroy();
});

async function withAdmin<T>(fn: (admin: ReturnType<Kafka["admin"]>) => Promise<T>): Promise<T> {
  const admin = client.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** key → values in log order, read with kcat from the beginning. */
async function readKeyed(topic: string): Promise<{ key: string; value: string | null }[]> {
  const out = await kcat(["-b", broker.brokers, "-C", "-t", topic, "-e", "-q", "-Z", "-f", "%k\t%S\t%s\\n"]);
  return out
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [key, size, value] = l.split("\t");
      return { key, value: size === "-1" ? null : value };
    });
}

describe("log compaction", () => {
  it("keeps only the latest value per key, then removes tombstoned keys", async () => {
    const topic = "compact-state";
    await withAdmin((a) =>
      a.createTopics({
        topics: [
          {
            topic,
            numPartitions: 1,
            configEntries: [
              { name: "cleanup.policy", value: "compact" },
              { name: "segment.bytes", value: "2048" },
              { name: "delete.retention.ms", value: "0" },
            ],
          },
        ],
      }),
    );
    const producer = client.producer();
    await producer.connect();
    for (let round = 0; round < 5; round++) {
      // Odd rounds gzip'd: compaction decompresses them to find the keys.
      await producer.send({
        topic,
        compression: round % 2 ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: Array.from({ length: 20 }, (_, k) => ({ key: `k${k}`, value: `v${round}-${k}` })),
      });
    }
    // Delete k0..k4, then write enough unrelated keys to roll the tombstones out of the active segment.
    await producer.send({ topic, messages: Array.from({ length: 5 }, (_, k) => ({ key: `k${k}`, value: null })) });
    for (let i = 0; i < 4; i++) {
      await producer.send({ topic, messages: Array.from({ length: 10 }, (_, j) => ({ key: `filler${i}-${j}`, value: "x".repeat(40) })) });
    }
    await producer.disconnect();

    const records = await waitFor(async () => {
      const r = await readKeyed(topic);
      return r.some((x) => x.key === "k0") ? null : r;
    }, "compaction to remove tombstoned keys", 20_000);
    const byKey = new Map<string, (string | null)[]>();
    for (const r of records) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.value]);
    for (let k = 0; k < 5; k++) expect(byKey.has(`k${k}`)).toBe(false);
    for (let k = 5; k < 20; k++) expect(byKey.get(`k${k}`)).toEqual([`v4-${k}`]);
    expect(records.filter((r) => r.key.startsWith("filler"))).toHaveLength(40);
    // Offsets are never reassigned: the last offset is still the 145th record's.
    const [p] = await withAdmin((a) => a.fetchTopicOffsets(topic));
    expect(p.high).toBe("145");
  });
});

describe("retention and admin operations", () => {
  it("removes old segments by retention.bytes and retention.ms set through AlterConfigs", async () => {
    const topic = "retention";
    await withAdmin((a) => a.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: "segment.bytes", value: "4096" }] }] }));
    const producer = client.producer();
    await producer.connect();
    for (let i = 0; i < 20; i++) {
      await producer.send({ topic, messages: Array.from({ length: 10 }, (_, j) => ({ value: `${i}-${j}-${"y".repeat(80)}` })) });
    }
    await producer.disconnect();
    const low = async () => Number((await withAdmin((a) => a.fetchTopicOffsets(topic)))[0].low);
    expect(await low()).toBe(0);

    await withAdmin((a) =>
      a.alterConfigs({
        validateOnly: false,
        resources: [
          { type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: "segment.bytes", value: "4096" }, { name: "retention.bytes", value: "8192" }] },
        ],
      }),
    );
    const described = await withAdmin((a) =>
      a.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["retention.bytes", "cleanup.policy"] }] }),
    );
    const entries = Object.fromEntries(described.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
    expect(entries).toEqual({ "retention.bytes": "8192", "cleanup.policy": "delete" });
    const afterBytes = await waitFor(async () => ((await low()) > 0 ? low() : null), "size retention", 10_000);
    const remaining = (await kcat(["-b", broker.brokers, "-C", "-t", topic, "-e", "-q"])).split("\n").filter(Boolean);
    expect(remaining).toHaveLength(200 - afterBytes);
    expect(remaining[0]).toMatch(new RegExp(`^${Math.floor(afterBytes / 10)}-${afterBytes % 10}-`));

    // retention.ms=0: every closed segment is expired; the active one always stays.
    await withAdmin((a) =>
      a.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: "segment.bytes", value: "4096" }, { name: "retention.ms", value: "0" }] }],
      }),
    );
    await waitFor(async () => (await low()) > afterBytes, "time retention", 10_000);
    expect(await low()).toBeLessThan(200);
  });

  it("moves the log start with DeleteRecords, adds partitions, deletes topics and rejects bad configs", async () => {
    const topic = "admin-ops";
    await withAdmin((a) => a.createTopics({ topics: [{ topic, numPartitions: 1 }] }));
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `r${i}` })) });
    await withAdmin(async (a) => {
      await a.fetchTopicMetadata({ topics: [topic] }); // kafkajs needs the topic's metadata cached first
      await a.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "6" }] });
    });
    expect((await withAdmin((a) => a.fetchTopicOffsets(topic)))[0]).toMatchObject({ low: "6", high: "10" });
    const rest = await kcat(["-b", broker.brokers, "-C", "-t", topic, "-o", "beginning", "-e", "-q"]);
    expect(rest.split("\n").filter(Boolean)).toEqual(["r6", "r7", "r8", "r9"]);

    await withAdmin((a) => a.createPartitions({ topicPartitions: [{ topic, count: 3 }] }));
    const meta = await withAdmin((a) => a.fetchTopicMetadata({ topics: [topic] }));
    expect(meta.topics[0].partitions).toHaveLength(3);
    await producer.send({ topic, messages: [{ value: "p2", partition: 2 }] });
    await producer.disconnect();

    const creationError = (topics: { topic: string; configEntries?: { name: string; value: string }[] }[]) =>
      withAdmin((a) => a.createTopics({ topics })).then(
        () => "created",
        (err: { errors?: { type: string }[] }) => err.errors?.[0]?.type,
      );
    expect(await creationError([{ topic: "bad-config", configEntries: [{ name: "cleanup.policy", value: "shred" }] }])).toBe("INVALID_CONFIG");
    expect(await creationError([{ topic: "bad name!" }])).toBe("INVALID_TOPIC_EXCEPTION");
    // kafkajs turns TOPIC_ALREADY_EXISTS into a `false` result.
    expect(await withAdmin((a) => a.createTopics({ topics: [{ topic }] }))).toBe(false);

    await withAdmin((a) => a.deleteTopics({ topics: [topic] }));
    expect(await withAdmin((a) => a.listTopics())).not.toContain(topic);
    // A re-created topic starts empty.
    await withAdmin((a) => a.createTopics({ topics: [{ topic, numPartitions: 1 }] }));
    expect((await withAdmin((a) => a.fetchTopicOffsets(topic)))[0]).toMatchObject({ low: "0", high: "0" });
  });
});
