import { PartitionReader } from "@/lib/kafka/partition-reader";
import { kafka, kafkaAdmin } from "@/lib/kafka/shared";

/**
 * Everything committed in a topic, as read_committed readers (every Sluice
 * reader) see it: what a write left visible, to compare with what it reported.
 */
export async function committedValues(topic: string): Promise<{ partition: number; key: string | null; value: string }[]> {
  const admin = await kafkaAdmin();
  const offsets = await admin.fetchTopicOffsets(topic);
  const reader = await PartitionReader.open(kafka());
  const out: { partition: number; key: string | null; value: string }[] = [];
  try {
    for (const { partition, high } of offsets) {
      let offset = "0";
      while (BigInt(offset) < BigInt(high)) {
        const res = await reader.fetch(topic, partition, offset);
        for (const r of res.records) out.push({ partition, key: r.key?.toString("utf8") ?? null, value: r.value?.toString("utf8") ?? "" });
        if (BigInt(res.nextOffset) <= BigInt(offset)) break;
        offset = res.nextOffset;
      }
    }
  } finally {
    await reader.close();
  }
  return out;
}

/** Sum of the partitions' high watermarks: anything ever appended, committed, aborted or a transaction marker. */
export async function appendedOffsets(topic: string): Promise<number> {
  const offsets = await (await kafkaAdmin()).fetchTopicOffsets(topic);
  return offsets.reduce((a, o) => a + Number(o.high), 0);
}
