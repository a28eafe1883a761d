import { fsyncFd } from "./segment";

/** Something with an append-only file whose writes become durable on fsync. */
export interface Flushable {
  /** Closed logs (deleted topics) are skipped: their files are gone. */
  readonly closed: boolean;
  readonly activeFd: number;
  readonly logEndOffset: number;
  onDurable(offset: number): void;
}

export type FsyncPolicy = "ack" | "interval";

/**
 * Group commit: writes from every producer accumulate while one fsync round is in flight,
 * and the next round syncs them all together. With policy "ack" a produce is acknowledged
 * (and becomes visible to consumers) only after its round completes; with "interval" data
 * is acknowledged after the write and fsync'd on a timer, trading the tail for throughput.
 */
export class Durability {
  private readonly dirty = new Set<Flushable>();
  private flushing = false;
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly policy: FsyncPolicy,
    intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {
    if (policy === "interval") {
      this.timer = setInterval(() => this.schedule(), intervalMs);
      this.timer.unref();
    }
  }

  markDirty(log: Flushable): void {
    this.dirty.add(log);
    if (this.policy === "interval") log.onDurable(log.logEndOffset);
    else this.schedule();
  }

  private schedule(): void {
    if (this.flushing || this.scheduled || this.closed || this.dirty.size === 0) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.flushing = true;
    const round = [...this.dirty].filter((log) => !log.closed).map((log) => ({ log, fd: log.activeFd, end: log.logEndOffset }));
    this.dirty.clear();
    try {
      await Promise.all(round.map((r) => fsyncFd(r.fd)));
      for (const r of round) r.log.onDurable(r.end);
    } catch (err) {
      // A failed fsync means the page cache may have dropped our writes: never acknowledge
      // them. The owner stops the broker (as Kafka takes a failed log dir offline); restart
      // recovery then truncates to what is really on disk.
      this.onError(err);
    } finally {
      this.flushing = false;
    }
    if (this.policy === "ack") this.schedule();
  }

  /** Waits for the in-flight round and syncs what is left (clean shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    while (this.flushing || this.scheduled) await new Promise((r) => setTimeout(r, 5));
    const rest = [...this.dirty].filter((l) => !l.closed);
    this.dirty.clear();
    await Promise.all(rest.map((l) => fsyncFd(l.activeFd)));
    for (const l of rest) l.onDurable(l.logEndOffset);
  }
}
