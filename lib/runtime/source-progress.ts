import type { Admin } from "kafkajs";
import type { PartitionId } from "@/lib/compiler";

/**
 * Where a task stands in each source partition it owns: the next offset its
 * plan will see (its position) and the partition's end offset. A partition
 * whose position has reached its end offset is **caught up**: it has no
 * unread records. Only caught-up partitions may become idle and stop holding
 * a Window's watermark back (docs/runtime.md "Watermarks").
 *
 * Positions move when a batch has gone through the plan (and when kafkajs
 * skips a batch of only transaction markers or aborted records). End offsets
 * come from the broker: ListOffsets under read_committed (the last stable
 * offset: records of an open transaction are not readable yet), plus the high
 * watermark each fetched batch reports — so records of a transaction still
 * open count as unread until the consumer has read past them.
 */
export const sourcePartitionId = (topic: string, partition: number): PartitionId => `${topic}:${partition}`;

export class SourceProgress {
  private readonly positions = new Map<PartitionId, bigint>();
  private readonly seenEnds = new Map<PartitionId, bigint>();
  private owned: { topic: string; partition: number; id: PartitionId }[] = [];

  /** The task's assignment (topic → partitions); returns the partition ids per topic. */
  assign(assignment: Readonly<Record<string, readonly number[]>>): Map<string, PartitionId[]> {
    const byTopic = new Map<string, PartitionId[]>();
    this.owned = [];
    for (const [topic, partitions] of Object.entries(assignment)) {
      const ids = partitions.map((p) => sourcePartitionId(topic, p));
      byTopic.set(topic, ids);
      partitions.forEach((p, i) => this.owned.push({ topic, partition: p, id: ids[i] }));
    }
    return byTopic;
  }

  get topics(): string[] {
    return [...new Set(this.owned.map((o) => o.topic))];
  }

  /** The plan has seen everything before `next` in this partition. Positions only move forward. */
  advance(id: PartitionId, next: bigint): void {
    const cur = this.positions.get(id);
    if (cur === undefined || next > cur) this.positions.set(id, next);
  }

  /** A high watermark the broker reported with a batch: records up to it exist, committed or not. */
  sawEnd(id: PartitionId, end: bigint): void {
    const cur = this.seenEnds.get(id);
    if (cur === undefined || end > cur) this.seenEnds.set(id, end);
  }

  /**
   * The owned partitions with no unread records, given end offsets read from
   * the broker after the check began. A partition whose position is unknown
   * (no committed offset read yet, nothing processed) is not caught up.
   */
  caughtUp(ends: ReadonlyMap<PartitionId, bigint>): Set<PartitionId> {
    const out = new Set<PartitionId>();
    for (const { id } of this.owned) {
      const pos = this.positions.get(id);
      const end = ends.get(id);
      if (pos === undefined || end === undefined) continue;
      const seen = this.seenEnds.get(id);
      if (pos >= end && (seen === undefined || pos >= seen)) out.add(id);
    }
    return out;
  }

  /**
   * Reads where each owned partition starts (its committed offset, or the log
   * start when the group has none, as the consumer does with fromBeginning)
   * and its end offset: ListOffsets and OffsetFetch over the Kafka protocol.
   */
  async readStart(admin: Admin, groupId: string): Promise<void> {
    const topics = this.topics;
    if (!topics.length) return;
    const [committed, bounds] = await Promise.all([admin.fetchOffsets({ groupId, topics }), this.readBounds(admin)]);
    for (const t of committed) {
      for (const p of t.partitions) {
        const id = sourcePartitionId(t.topic, p.partition);
        const low = bounds.low.get(id);
        if (low === undefined) continue;
        const c = BigInt(p.offset);
        this.advance(id, c >= 0n && c > low ? c : low);
      }
    }
  }

  /** End offsets (last stable offsets) of the owned partitions, read now. */
  async readEnds(admin: Admin): Promise<Map<PartitionId, bigint>> {
    return (await this.readBounds(admin)).end;
  }

  private async readBounds(admin: Admin): Promise<{ low: Map<PartitionId, bigint>; end: Map<PartitionId, bigint> }> {
    const low = new Map<PartitionId, bigint>();
    const end = new Map<PartitionId, bigint>();
    const owned = new Set(this.owned.map((o) => o.id));
    await Promise.all(
      this.topics.map(async (topic) => {
        for (const o of await admin.fetchTopicOffsets(topic)) {
          const id = sourcePartitionId(topic, o.partition);
          if (!owned.has(id)) continue;
          low.set(id, BigInt(o.low));
          end.set(id, BigInt(o.high));
        }
      }),
    );
    return { low, end };
  }
}
