import { createRequire, Module } from "node:module";

/**
 * kafkajs 2.2.4 (frozen) groups each send's messages by partition with
 *   messages.reduce((r, m) => Object.assign(r, { [p]: [...(r[p] || []), m] }), {})
 * which copies a partition's whole array for every message: O(n²) in the batch
 * size. At the batches a task sends (thousands of records per partition) that
 * was ~18% of a worker's CPU in a profile. This replaces that internal module
 * with a linear version (same result: partition → messages in send order)
 * before kafkajs's producer code loads it.
 *
 * Importing this module installs it. It has to be loaded before anything in
 * the process loads kafkajs, so it is the first import of lib/kafka/client.ts
 * and of the worker entry; `linearGroupingInstalled` tells whether it made it.
 */
type Grouping = (args: { topic: string; partitionMetadata: unknown[]; messages: unknown[]; partitioner: (a: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number }) => Record<number, unknown[]>;

const linear: Grouping = ({ topic, partitionMetadata, messages, partitioner }) => {
  const out: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return out;
  for (const message of messages) (out[partitioner({ topic, partitionMetadata, message })] ??= []).push(message);
  return out;
};

function install(): boolean {
  const require = createRequire(import.meta.url);
  let target: string;
  let user: string;
  try {
    target = require.resolve("kafkajs/src/producer/groupMessagesPerPartition.js");
    user = require.resolve("kafkajs/src/producer/sendMessages.js");
  } catch {
    return false; // a kafkajs without these files: nothing to fix
  }
  // Inside a bundle (the Next.js server) require.resolve gives module ids, not
  // paths, and kafkajs is loaded by the bundler's runtime: leave it as it is
  // there (the web process only sends small batches; workers run plain Node).
  if (typeof target !== "string" || typeof user !== "string" || !require.cache) return false;
  if (require.cache[user]) return require.cache[target]?.exports === linear; // too late (or already done)
  const m = new Module(target);
  m.filename = target;
  m.loaded = true;
  m.exports = linear;
  require.cache[target] = m;
  return true;
}

export const linearGroupingInstalled = install();
export { linear as groupMessagesLinear };
