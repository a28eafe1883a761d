import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerProcess, kafka, waitFor } from "./harness";
import { WireClient } from "./wire";

/**
 * Connection lifetimes with short limits (1 s idle, 1 s per frame): half-sent and idle
 * connections are closed, while long-polling fetches and idle-but-healthy kafkajs clients
 * (which reconnect on their next request) keep working.
 */
let broker: BrokerProcess;
const IDLE_MS = 1_000;

beforeAll(async () => {
  broker = await BrokerProcess.start(["--connections-max-idle-ms", String(IDLE_MS), "--request-read-timeout-ms", "1000", "--log-level", "info"]);
});
afterAll(async () => {
  await broker?.destroy();
});

const idleCloses = () => broker.output.split("\n").filter((l) => l.includes(`idle for ${IDLE_MS} ms`)).length;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fetch v4 of one partition from `offset`, waiting up to `maxWaitMs` for `minBytes`. */
async function fetchOnce(c: WireClient, topic: string, offset: number, maxWaitMs: number): Promise<{ errorCode: number; highWatermark: number; bytes: number }> {
  const r = await c.request(1, 4, (w) => {
    w.int32(-1).int32(maxWaitMs).int32(1).int32(1_048_576).int8(0);
    w.int32(1).string(topic).int32(1).int32(0).int64(offset).int32(1_048_576);
  });
  r.int32(); // throttle
  r.int32(); // topics
  r.string();
  r.int32(); // partitions
  r.int32();
  const errorCode = r.int16();
  const highWatermark = r.int64();
  r.int64(); // last stable offset
  r.array(() => undefined); // aborted transactions (none here)
  return { errorCode, highWatermark, bytes: r.bytes().length };
}

describe("half-sent frames", () => {
  it("closes a connection whose frame stops half way, and one that trickles a frame byte by byte", async () => {
    const stalled = await WireClient.connect(broker);
    const frame = Buffer.alloc(4 + 20);
    frame.writeInt32BE(20, 0);
    stalled.sendRaw(frame.subarray(0, 10));
    expect(await stalled.waitClosed(5_000)).toBe(true);

    // Each byte is "activity", so only the per-frame bound can catch this one.
    const trickle = await WireClient.connect(broker);
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < frame.length - 1) trickle.sendRaw(frame.subarray(sent, ++sent));
    }, 100);
    try {
      expect(await trickle.waitClosed(5_000)).toBe(true);
      expect(sent).toBeLessThan(frame.length - 1);
    } finally {
      clearInterval(timer);
    }
    await broker.waitForOutput(/request frame not complete within 1000 ms/, "the frame-bound log line");
  });

  it("does not cut a client that keeps sending whole frames for longer than the frame bound", async () => {
    const c = await WireClient.connect(broker);
    const started = Date.now();
    while (Date.now() - started < 3_000) {
      expect((await c.request(18, 0, () => undefined)).int16()).toBe(0);
      await pause(200);
    }
    expect(c.closed).toBe(false);
    c.close();
  });
});

describe("idle connections", () => {
  it("closes a connection with nothing in flight after connections.max.idle.ms", async () => {
    const c = await WireClient.connect(broker);
    expect((await c.request(18, 0, () => undefined)).int16()).toBe(0);
    expect(await c.waitClosed(5_000)).toBe(true);
  });

  it("keeps a long-polling fetch open past the idle limit and answers it when data arrives", async () => {
    const topic = "conn-long-poll";
    const admin = kafka(broker).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();

    const c = await WireClient.connect(broker);
    // 3 s of nothing on the wire: three times the idle limit.
    const empty = await fetchOnce(c, topic, 0, 3_000);
    expect(empty).toEqual({ errorCode: 0, highWatermark: 0, bytes: 0 });
    expect(c.closed).toBe(false);

    const poll = fetchOnce(c, topic, 0, 10_000);
    await pause(2_500);
    const producer = kafka(broker).producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: "woke the poll" }] });
    await producer.disconnect();
    const got = await poll;
    expect(got.highWatermark).toBe(1);
    expect(got.bytes).toBeGreaterThan(0);
    c.close();
  });

  it("lets idle kafkajs producers, admins and group consumers carry on after their connections were closed", async () => {
    const topic = "conn-idle-clients";
    const client = kafka(broker, "idle-clients", { retry: { retries: 5, initialRetryTime: 100 } });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = client.producer();
    await producer.connect();
    const consumer = client.consumer({ groupId: "conn-idle-group", maxWaitTimeInMs: 3_000, heartbeatInterval: 3_000, sessionTimeout: 30_000 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got: string[] = [];
    void consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });

    const closesBefore = idleCloses();
    for (let round = 0; round < 3; round++) {
      await producer.send({ topic, messages: [{ key: `k${round}`, value: `round-${round}` }] });
      await waitFor(() => got.length === round + 1, `round ${round} to be consumed`);
      // Longer than the idle limit: the producer's and admin's connections are closed meanwhile.
      await pause(2_500);
      expect(await admin.listTopics()).toContain(topic);
    }
    await waitFor(() => idleCloses() > closesBefore, "an idle close in the broker's log");
    expect(got.sort()).toEqual(["round-0", "round-1", "round-2"]);
    await Promise.all([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
  });
});
