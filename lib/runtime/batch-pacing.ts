import { CHUNK_ROWS, MAX_TIMEOUTS_PER_BATCH } from "@/lib/udf";

/**
 * Pacing of a task's work, so that no batch — however slow its records — can
 * starve the worker's event loop or outlast the task's consumer-group session.
 *
 * A task shares its worker process with other teams' tasks, and the process's
 * event loop renews every task's BullMQ lock (3 s) and sends every consumer's
 * heartbeats. A fetched batch can hold thousands of records, and the plan's
 * expressions run synchronously; a UDF can take up to (3 + 1) × its time limit
 * on each chunk of 512 records. So a task runs a batch through the plan in
 * *slices*: each slice a plan call of its own, sized from the time the last
 * ones took (`SliceSizer`), with a turn of the event loop between slices and
 * all slices of a batch committed in one round. Between slices the task stops
 * early — committing what it did; the rest is fetched again — when the group
 * is rebalancing, the deployment changed, or the task must stop.
 */

/** Wall time one slice should take: short next to the 1 s heartbeat interval and the 3 s lock. */
export const SLICE_TARGET_MS = 100;
/** The first slice of a task, before anything was measured. */
export const FIRST_SLICE = 256;
/**
 * At most this many records per slice: bounds a slice whose records turn
 * expensive after cheap ones (an expression's cost depends on the record; the
 * per-record budget bounds each one, lib/expr/cost.ts; loops get MAX_LOOP_SLICE).
 */
export const MAX_SLICE = 2_048;
/** With a UDF in the plan: at most two sandbox chunks per slice, so a slice's worst case is known (see udfSliceWorstMs). */
export const MAX_UDF_SLICE = 2 * CHUNK_ROWS;
/**
 * With an expression that loops over record data: one record may spend the
 * whole per-record budget (1,000,000 units, ~25 ms on the development
 * machine), so at most 32 records per slice (under a second).
 */
export const MAX_LOOP_SLICE = 32;

/** The largest slice for a plan (see the constants above). */
export function maxSliceFor(plan: { expressionLoops: boolean }, udfCount: number): number {
  return Math.min(MAX_SLICE, udfCount > 0 ? MAX_UDF_SLICE : MAX_SLICE, plan.expressionLoops ? MAX_LOOP_SLICE : MAX_SLICE);
}

/**
 * Chooses how many records the next slice takes: the number that should take
 * SLICE_TARGET_MS at the cost per record measured so far, at most twice the
 * current size (a cheap history says little about the next records) and at
 * most `max`.
 */
export class SliceSizer {
  private size: number;

  constructor(private readonly max: number = MAX_SLICE) {
    this.size = Math.min(FIRST_SLICE, max);
  }

  next(remaining: number): number {
    return Math.max(1, Math.min(remaining, this.size));
  }

  /** A slice of `records` took `ms`. */
  observe(records: number, ms: number): void {
    if (records <= 0) return;
    const perRecord = Math.max(ms, 0.01) / records;
    const ideal = Math.floor(SLICE_TARGET_MS / perRecord);
    // Grow at most twice per slice; a short last slice of a batch (the remainder) does not shrink the next.
    this.size = Math.max(1, Math.min(this.max, 2 * Math.max(this.size, records), ideal));
  }
}

/**
 * The longest one slice can take in the UDF sandboxes, given each UDF node's
 * time limit: a chunk of up to 512 records takes at most (3 + 1) × the limit
 * (docs/operators.md, UDF), and a slice holds at most two chunks.
 */
export function udfSliceWorstMs(udfTimeoutsMs: readonly number[]): number {
  const chunks = Math.ceil(MAX_UDF_SLICE / CHUNK_ROWS);
  return udfTimeoutsMs.reduce((sum, t) => sum + chunks * (MAX_TIMEOUTS_PER_BATCH + 1) * t, 0);
}

/** The task's consumer rebalance timeout: long enough for a slice in flight to finish and the task to rejoin. */
export function rebalanceTimeoutMs(udfTimeoutsMs: readonly number[], base = 15_000): number {
  return Math.max(base, udfSliceWorstMs(udfTimeoutsMs) + 5_000);
}

/**
 * Notices a task that cannot make progress: it keeps processing batches but is
 * evicted from its consumer group (or crashes) before it can commit them, so it
 * rejoins and fetches the same records again — forever, unless stopped. After
 * `limit` rejoins in a row with processed but uncommitted work, `stuck()` says why.
 */
export class ProgressWatchdog {
  private uncommittedWork = false;
  private rejoinsWithoutCommit = 0;

  constructor(private readonly limit = 4) {}

  /** A slice went through the plan; its results are not committed yet. */
  processed(): void {
    this.uncommittedWork = true;
  }

  /** A round was written and committed. */
  committed(): void {
    this.uncommittedWork = false;
    this.rejoinsWithoutCommit = 0;
  }

  /** The consumer (re)joined its group. */
  joined(): void {
    if (this.uncommittedWork) this.rejoinsWithoutCommit++;
    this.uncommittedWork = false;
  }

  stuck(): boolean {
    return this.rejoinsWithoutCommit >= this.limit;
  }

  get rejoins(): number {
    return this.rejoinsWithoutCommit;
  }
}

/** One turn of the event loop: timers (lock renewal, heartbeats) and other tasks run. */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
