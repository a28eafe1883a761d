import type { InternalTopic } from "../storage/internal-topic";

export interface CommittedOffset {
  offset: number;
  metadata: string | null;
}
export interface OffsetEntry extends CommittedOffset {
  topic: string;
  partition: number;
}

function recordKey(group: string, topic: string, partition: number): string {
  return JSON.stringify(["offset", group, topic, partition]);
}

/**
 * Committed offsets per group, written to the internal `__consumer_offsets` log before
 * they are acknowledged and replayed from it on start.
 */
export class OffsetStore {
  private readonly groups = new Map<string, Map<string, OffsetEntry>>();

  constructor(private readonly topic: InternalTopic) {}

  async load(): Promise<void> {
    for await (const rec of this.topic.replay()) {
      const [kind, group, topic, partition] = JSON.parse(rec.key) as [string, string, string, number];
      if (kind !== "offset") continue;
      if (rec.value === null) this.forget(group, topic, partition);
      else this.apply(group, { topic, partition, ...(JSON.parse(rec.value) as CommittedOffset) });
    }
  }

  private apply(group: string, e: OffsetEntry): void {
    let g = this.groups.get(group);
    if (!g) {
      g = new Map();
      this.groups.set(group, g);
    }
    g.set(`${e.topic}\u0000${e.partition}`, e);
  }

  private forget(group: string, topic: string, partition: number): void {
    const g = this.groups.get(group);
    g?.delete(`${topic}\u0000${partition}`);
    if (g && g.size === 0) this.groups.delete(group);
  }

  async commit(group: string, entries: OffsetEntry[]): Promise<void> {
    await this.topic.append(
      entries.map((e) => ({
        key: recordKey(group, e.topic, e.partition),
        value: JSON.stringify({ offset: e.offset, metadata: e.metadata }),
      })),
    );
    for (const e of entries) this.apply(group, e);
  }

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.groups.get(group)?.get(`${topic}\u0000${partition}`);
  }

  all(group: string): OffsetEntry[] {
    return [...(this.groups.get(group)?.values() ?? [])];
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  has(group: string): boolean {
    return this.groups.has(group);
  }

  async deleteGroup(group: string): Promise<void> {
    const entries = this.all(group);
    await this.topic.append(entries.map((e) => ({ key: recordKey(group, e.topic, e.partition), value: null })));
    this.groups.delete(group);
  }

  /** Drops offsets of a deleted topic so a re-created topic starts fresh. */
  async deleteTopic(topic: string): Promise<void> {
    for (const group of this.groupIds()) {
      const gone = this.all(group).filter((e) => e.topic === topic);
      if (gone.length === 0) continue;
      await this.topic.append(gone.map((e) => ({ key: recordKey(group, e.topic, e.partition), value: null })));
      for (const e of gone) this.forget(group, e.topic, e.partition);
    }
  }
}
