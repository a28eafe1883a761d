/**
 * Key groups: a Window's repartition stream has a fixed number of partitions
 * (the deployment's max parallelism); a record's window key picks its
 * partition with Kafka's default partitioner — murmur2 of the key's UTF-8
 * bytes, made positive, modulo the partition count — so Sluice, kafkajs,
 * librdkafka (`murmur2_random`) and the Java client all agree where a key
 * lives. A partition is a key group: its Window state is one unit, stored in
 * the same-numbered partition of the changelog, and moves whole between tasks
 * on rescale.
 */
const encoder = new TextEncoder();

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), in 32-bit integer arithmetic. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4] & 0xff) | ((data[i4 + 1] & 0xff) << 8) | ((data[i4 + 2] & 0xff) << 16) | ((data[i4 + 3] & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const rest = length & ~3;
  switch (length % 4) {
    case 3:
      h ^= (data[rest + 2] & 0xff) << 16;
    // falls through
    case 2:
      h ^= (data[rest + 1] & 0xff) << 8;
    // falls through
    case 1:
      h ^= data[rest] & 0xff;
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition (key group) of a record key among `partitions`, as Kafka's default partitioner computes it. */
export function keyGroupOf(key: string, partitions: number): number {
  return (murmur2(encoder.encode(key)) & 0x7fffffff) % partitions;
}

/** The key groups (partitions) task `taskIndex` of `parallelism` owns: p mod parallelism = taskIndex. */
export function ownedKeyGroups(partitions: number, taskIndex: number, parallelism: number): number[] {
  const out: number[] = [];
  for (let p = taskIndex; p < partitions; p += parallelism) out.push(p);
  return out;
}
