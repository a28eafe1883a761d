import type { Message } from "kafkajs";

/**
 * A broker refuses a record batch larger than its `max.message.bytes`
 * (1 MiB by default, on Kafka and the embedded broker alike), and kafkajs
 * sends all of a request's messages for a partition as one batch — so a
 * round whose output to one partition exceeds it failed forever (the task
 * crashed, restarted, wrote the same round again). A round's messages are
 * sent in chunks of at most `maxBytes` (key + value + headers, a bound on
 * any partition's share), one produce request each; within a transaction
 * they still commit together.
 */
export const PRODUCE_CHUNK_BYTES = 768 * 1024;

const sizeOf = (m: Message) => {
  let n = 64 + (typeof m.value === "string" ? Buffer.byteLength(m.value) : (m.value?.byteLength ?? 0)) + (typeof m.key === "string" ? Buffer.byteLength(m.key) : (m.key?.byteLength ?? 0));
  for (const [k, v] of Object.entries(m.headers ?? {})) n += k.length + (typeof v === "string" ? Buffer.byteLength(v) : Array.isArray(v) ? v.reduce((a, x) => a + String(x).length, 0) : (v?.byteLength ?? 0));
  return n;
};

export function chunkTopicMessages(topicMessages: { topic: string; messages: Message[] }[], maxBytes = PRODUCE_CHUNK_BYTES): { topic: string; messages: Message[] }[][] {
  const chunks: { topic: string; messages: Message[] }[][] = [];
  let current: { topic: string; messages: Message[] }[] = [];
  let bytes = 0;
  for (const { topic, messages } of topicMessages) {
    let entry: { topic: string; messages: Message[] } | undefined;
    for (const m of messages) {
      const n = sizeOf(m);
      if (bytes > 0 && bytes + n > maxBytes) {
        chunks.push(current);
        current = [];
        bytes = 0;
        entry = undefined;
      }
      if (!entry) current.push((entry = { topic, messages: [] }));
      entry.messages.push(m);
      bytes += n;
    }
  }
  if (current.length) chunks.push(current);
  return chunks;
}
