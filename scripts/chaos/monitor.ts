import type { Admin, Kafka } from "kafkajs";
import { PartitionReader } from "@/lib/kafka/partition-reader";

/**
 * Watches progress the way an operator would, over the Kafka protocol only:
 * each source partition's end offset and each pipeline's committed offsets
 * (its consumer group). A pipeline has *recovered* from a fault once it has
 * committed — so written, under either guarantee — everything that was in its
 * sources when the fault hit: detection, takeover and catch-up all count.
 */
export interface WatchedPipeline {
  name: string;
  groupId: string;
  topics: string[];
}

/** topic → partition → offset */
export type Offsets = Map<string, Map<number, bigint>>;

export interface Sample {
  at: number;
  ends: Offsets;
  committed: Map<string, Offsets>; // pipeline → offsets
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ProgressMonitor {
  private admin?: Admin;
  latest?: Sample;
  private running = false;
  private loop?: Promise<void>;
  private waiters: Waiter[] = [];

  constructor(
    private readonly kafka: Kafka,
    private readonly pipelines: WatchedPipeline[],
    /** Gets a line about each failed or slow sample, and every second each pipeline's lag (for the run's progress log). */
    private readonly trace: (line: string) => void = () => {},
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.running = true;
    let lastTrace = 0;
    let failing = 0;
    this.loop = (async () => {
      while (this.running) {
        const t = Date.now();
        try {
          const s = await this.sample();
          if (failing) this.trace(`monitor: sampling works again after ${failing} failed attempt(s)`);
          failing = 0;
          if (s.at - t > 2_000) this.trace(`monitor: a sample took ${s.at - t} ms`);
          if (s.at - lastTrace >= 1_000) {
            lastTrace = s.at;
            this.trace(`lag ${[...this.lag(s)].map(([p, l]) => `${p}=${l}`).join(" ")}`);
          }
        } catch (e) {
          // The broker may be down: try again.
          if (failing++ === 0) this.trace(`monitor: sample failed after ${Date.now() - t} ms: ${(e as Error).message}`);
        }
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.admin?.disconnect().catch(() => {});
  }

  private async connect(): Promise<Admin> {
    if (!this.admin) {
      const a = this.kafka.admin({ retry: { retries: 1 } });
      await a.connect();
      this.admin = a;
    }
    return this.admin;
  }

  /** Reads end offsets and committed offsets now; resolves waiters whose target is reached. */
  async sample(): Promise<Sample> {
    let admin: Admin;
    try {
      admin = await this.connect();
    } catch (e) {
      this.admin = undefined;
      throw e;
    }
    try {
      const topics = [...new Set(this.pipelines.flatMap((p) => p.topics))];
      const ends: Offsets = new Map();
      await Promise.all(
        topics.map(async (t) => {
          const offs = await admin.fetchTopicOffsets(t);
          ends.set(t, new Map(offs.map((o) => [o.partition, BigInt(o.high)])));
        }),
      );
      const committed = new Map<string, Offsets>();
      await Promise.all(
        this.pipelines.map(async (p) => {
          const res = await admin.fetchOffsets({ groupId: p.groupId, topics: p.topics });
          committed.set(p.name, new Map(res.map((t) => [t.topic, new Map(t.partitions.map((x) => [x.partition, BigInt(x.offset)]))])));
        }),
      );
      const s: Sample = { at: Date.now(), ends, committed };
      this.latest = s;
      this.waiters = this.waiters.filter((w) => !settle(w, s));
      return s;
    } catch (e) {
      // A dead broker leaves the admin client half-connected: start over next time.
      await admin.disconnect().catch(() => {});
      this.admin = undefined;
      throw e;
    }
  }

  /** A fresh sample, retried until the broker answers. */
  async sampleNow(timeoutMs = 60_000): Promise<Sample> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.sample();
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await sleep(200);
      }
    }
  }

  /**
   * Resolves once every pipeline has committed up to `target` on each of its
   * source partitions (`beyond`: past it, i.e. at least one record that
   * arrived after the target was taken), with the time and the partition that
   * got there last.
   */
  whenCommitted(target: Offsets, opts: { beyond?: boolean } = {}): Promise<Reached> {
    return new Promise((resolve) => {
      const pending = new Map<string, bigint>();
      for (const p of this.pipelines) {
        for (const t of p.topics) {
          for (const [partition, end] of target.get(t) ?? []) {
            if (end === 0n && !opts.beyond) continue;
            pending.set(`${p.name} ${t}:${partition}`, opts.beyond ? end + 1n : end);
          }
        }
      }
      const w: Waiter = { pending, last: "", resolve };
      if (!this.latest || !settle(w, this.latest)) this.waiters.push(w);
    });
  }

  /** Per pipeline, how many records its sources hold that it has not committed yet (latest sample). */
  lag(s = this.latest): Map<string, bigint> {
    const out = new Map<string, bigint>();
    if (!s) return out;
    for (const p of this.pipelines) {
      let lag = 0n;
      for (const t of p.topics) {
        for (const [partition, end] of s.ends.get(t) ?? []) {
          const c = s.committed.get(p.name)?.get(t)?.get(partition) ?? -1n;
          lag += end - (c < 0n ? 0n : c);
        }
      }
      out.set(p.name, lag);
    }
    return out;
  }
}

export interface Reached {
  at: number;
  /** The pipeline and source partition that got there last ("<pipeline> <topic>:<partition>"). */
  last: string;
}

interface Waiter {
  /** "<pipeline> <topic>:<partition>" → committed offset still to reach. */
  pending: Map<string, bigint>;
  last: string;
  resolve: (r: Reached) => void;
}

/** Removes what the sample shows reached; resolves the waiter (true) when nothing is left. */
function settle(w: Waiter, s: Sample): boolean {
  for (const [k, need] of w.pending) {
    const [pipeline, tp] = k.split(" ");
    const i = tp.lastIndexOf(":");
    const c = s.committed.get(pipeline)?.get(tp.slice(0, i))?.get(Number(tp.slice(i + 1))) ?? -1n;
    if (c >= need) {
      w.pending.delete(k);
      w.last = k;
    }
  }
  if (w.pending.size) return false;
  w.resolve({ at: s.at, last: w.last });
  return true;
}

/**
 * The drain's target: for each partition, the offset after its newest committed record instead of the high
 * watermark. A transactional writer (every produce through Sluice's API, every exactly_once stage writing a
 * repartition stream) leaves a commit marker last; a task that has read everything commits the offset after
 * its last record and moves past the marker only with its next transaction, which an idle Window stage may
 * never run. Read once per partition at the drain, not per sample.
 */
export async function withoutTrailingMarkers(kafka: Kafka, ends: Offsets): Promise<Offsets> {
  const reader = await PartitionReader.open(kafka);
  try {
    const out: Offsets = new Map();
    for (const [topic, partitions] of ends) {
      const adjusted = new Map<number, bigint>();
      for (const [partition, end] of partitions) {
        const newest = (await reader.newest(topic, partition, 0n, end, 1)).records.at(-1);
        adjusted.set(partition, newest ? BigInt(newest.offset) + 1n : 0n);
      }
      out.set(topic, adjusted);
    }
    return out;
  } finally {
    await reader.close();
  }
}
