/**
 * One kafkajs producer process for the broker bench: kafkajs encodes on one JS thread, so
 * measuring "kafkajs clients → broker" beyond one client's CPU needs several processes.
 * Args: brokers topic batches recordBytes partitionOffset. Prints "ready", waits for "go"
 * on stdin, sends, prints "done <records>".
 */
import { Kafka, logLevel } from "kafkajs";

const [brokers, topic, batchesArg, sizeArg, offsetArg] = process.argv.slice(2);
const batches = Number(batchesArg);
const value = Buffer.alloc(Number(sizeArg), 97);
const kafka = new Kafka({ brokers: [brokers], clientId: "bench-producer", logLevel: logLevel.NOTHING });
const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();
const messages = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, value }));
process.stdout.write("ready\n");
await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
for (let i = 0; i < batches; i += 4) {
  await Promise.all(
    [0, 1, 2, 3].map((j) => producer.send({ topic, acks: -1, messages: messages.map((m) => ({ ...m, partition: (Number(offsetArg) + j) % 4 })) })),
  );
}
await producer.disconnect();
process.stdout.write(`done ${batches * 1000}\n`);
