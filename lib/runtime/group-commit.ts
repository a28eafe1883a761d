/**
 * Group commit for a task: plan runs take turns (the plan is not re-entrant),
 * and each result waits to be written with every other result ready at that
 * moment — one transaction (exactly_once), or one send and one offset commit
 * (at_least_once), per round instead of per batch.
 *
 * kafkajs hands a fetch's partitions to eachBatch concurrently
 * (partitionsConsumedConcurrently); their plan runs queue here, and the last
 * of them starts the round. A transaction is five round trips and a record
 * waits for the commit before its own, so one per fetch instead of one per
 * partition is most of exactly_once's latency (docs/benchmarks.md, runtime).
 *
 * A round is taken under the plan lock, and only while no run is in or
 * waiting for the plan. A run's result is queued in the same tick its run
 * leaves the plan, so at that point every result the plan has produced is in
 * the round, and the state changes drained with it (the Window changelog) are
 * exactly those of its results: state is never committed ahead of the output
 * it accounts for.
 *
 * A failed round leaves a plan with state (Windows) ahead of what was
 * committed: it already applied the round's batches, whose offsets were not
 * committed, so Kafka hands them over again. Run through the same plan they
 * would be counted twice, and any later round would commit state that
 * includes them. With `haltOnFailure` the first failed round ends the group
 * commit: every queued and later run is rejected without touching the plan,
 * and its owner rebuilds the state from the last committed changelog.
 */
export interface GroupCommitOptions<R, C> {
  /** The plan's state changes since the last drain; runs under the plan lock. */
  drain: () => C;
  /** Writes a round's results and changes and commits them; the output bytes of each result. Throwing fails every result of the round. */
  write: (results: R[], changes: C) => Promise<number[]>;
  /** Stop for good after the first failed round (the plan holds state): see above. */
  haltOnFailure?: boolean;
}

interface Pending<R> {
  result: R;
  done: (bytes: number) => void;
  failed: (e: unknown) => void;
}

export class GroupCommit<R, C> {
  private lock: Promise<unknown> = Promise.resolve();
  private pending: Pending<R>[] = [];
  /** Runs in or waiting for the plan. */
  private queued = 0;
  private flushing = false;
  /** Rounds written so far (for tests and metrics). */
  rounds = 0;
  /** Why the group commit halted (haltOnFailure), if it did. */
  halted?: Error;

  constructor(private readonly opts: GroupCommitOptions<R, C>) {}

  /** Runs `fn` with the plan to itself. */
  private withPlan<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => {});
    return run;
  }

  /**
   * Runs `compute` on the plan, then commits its result with the next round.
   * Resolves once committed, with the result's output bytes; rejects with the
   * plan's error, or the round's when it failed. When `commit` says no (a
   * window pass that emitted nothing), the result is not written; its state
   * changes ride along with the next round.
   */
  async submit<T extends R>(compute: () => Promise<T>, commit: (result: T) => boolean = () => true): Promise<{ result: T; bytes: number }> {
    const { result, committed } = await this.run(compute, commit);
    return { result, bytes: await committed };
  }

  /**
   * As `submit`, but resolves as soon as `compute` has run: `committed`
   * settles when the result's round is written (with its output bytes, or the
   * round's error). A batch run in slices uses it with `hold`.
   */
  async run<T extends R>(compute: () => Promise<T>, commit: (result: T) => boolean = () => true): Promise<{ result: T; committed: Promise<number> }> {
    if (this.halted) throw this.halted;
    this.queued++;
    let result: T;
    try {
      // Checked again with the plan in hand: a round may have failed while this run waited for it.
      result = await this.withPlan(() => (this.halted ? Promise.reject(this.halted) : compute()));
    } finally {
      this.queued--;
    }
    // Same tick as the decrement: a round never sees `queued === 0` without this result.
    if (!commit(result)) {
      this.kick();
      return { result, committed: Promise.resolve(0) };
    }
    const committed = new Promise<number>((done, failed) => {
      this.pending.push({ result, done, failed });
      this.kick();
    });
    // The caller may stop before awaiting it (a later slice failed); the rejection is still theirs to read.
    committed.catch(() => undefined);
    return { result, committed };
  }

  /**
   * Keeps rounds from starting until the returned function is called, as if a
   * run were waiting for the plan: the slices of one batch are committed in
   * one round, while other runs may still take turns on the plan between them.
   */
  hold(): () => void {
    this.queued++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.queued--;
      this.kick();
    };
  }

  /** With haltOnFailure: no round after a failed one; results computed since then fail with it. */
  private halt(cause: unknown) {
    if (!this.opts.haltOnFailure || this.halted) return;
    const why = cause instanceof Error ? cause.message : String(cause);
    this.halted = new Error(`a round failed to commit (${why}); the plan's state is ahead of what was committed and must be rebuilt`, { cause });
    this.halted.name = "GroupCommitHalted";
    const pending = this.pending;
    this.pending = [];
    for (const item of pending) item.failed(this.halted);
  }

  private kick() {
    if (this.pending.length && this.queued === 0) void this.flush();
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length && this.queued === 0) {
        const round = await this.withPlan(async () => {
          if (this.queued !== 0) return undefined; // a run queued meanwhile: its result will start the round
          const items = this.pending;
          this.pending = [];
          try {
            return { items, changes: this.opts.drain() };
          } catch (e) {
            for (const item of items) item.failed(e);
            this.halt(e);
            return undefined;
          }
        });
        if (!round) continue;
        this.rounds++;
        try {
          const bytes = await this.opts.write(round.items.map((i) => i.result), round.changes);
          round.items.forEach((item, i) => item.done(bytes[i] ?? 0));
        } catch (e) {
          for (const item of round.items) item.failed(e);
          this.halt(e);
        }
      }
    } finally {
      this.flushing = false;
    }
    // A result queued while the last round was being written, with no run left in the plan to start the next one.
    this.kick();
  }
}
