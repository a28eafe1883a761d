/**
 * The runtime bench's baseline: a reasonable hand-written kafkajs consume-
 * transform-produce loop (eachBatch, one send per batch with acks=all, commit
 * after send). It runs in its own process, like a Sluice worker, so both are
 * measured the same way: same process start-up, same competition for the two
 * cores with the broker and the bench's own polling, and per-process CPU time.
 *
 * Env: BENCH_BROKERS, BENCH_SOURCE, BENCH_SINK, BENCH_GROUP. Runs until SIGTERM.
 * BENCH_HAND_LINEAR=1 gives it Sluice's fix for kafkajs's quadratic message
 * grouping (lib/kafka/linear-grouping), to show what the engine costs beyond it.
 */
import { handTransform } from "./runtime-shared";

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

async function main() {
  // kafkajs is loaded here, after the optional fix (which must come first).
  if (process.env.BENCH_HAND_LINEAR) await import("../../lib/kafka/linear-grouping");
  const { Kafka, logLevel } = await import("kafkajs");
  const { kafkaClientSecurity } = await import("../../lib/kafka/security");
  // Same TLS/SASL settings as Sluice's own clients (KAFKA_SSL*, KAFKA_SASL_*), so both sides pay the same.
  const kafka = new Kafka({ brokers: env("BENCH_BROKERS").split(","), logLevel: logLevel.NOTHING, clientId: "bench-hand", ...kafkaClientSecurity() });
  const consumer = kafka.consumer({ groupId: env("BENCH_GROUP"), maxBytesPerPartition: 1024 * 1024, maxBytes: 4 * 1024 * 1024 });
  const out = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const sink = env("BENCH_SINK");
  await Promise.all([consumer.connect(), out.connect()]);
  await consumer.subscribe({ topics: [env("BENCH_SOURCE")], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      const messages = [];
      for (const m of batch.messages) {
        const v = handTransform(m.value!);
        if (v) messages.push({ key: m.key, value: v });
      }
      if (messages.length) await out.send({ topic: sink, acks: -1, messages });
      const last = batch.messages[batch.messages.length - 1].offset;
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
      resolveOffset(last);
      await heartbeat();
    },
  });
  const stop = async () => {
    await consumer.disconnect().catch(() => {});
    await out.disconnect().catch(() => {});
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
