/**
 * Watermarks per source partition, for a Window fed by several partitions
 * (docs/operators.md "Time and watermarks", docs/runtime.md "Watermarks").
 *
 * Each partition's watermark is its newest event time minus the allowed
 * out-of-orderness. The Window's watermark is the minimum over **every
 * partition the task owns** — declared up front with `assign`, so a partition
 * that has not delivered a record yet holds the watermark at -∞ instead of
 * being ignored until its first record (the cause of issue 17: the first
 * partition fetched closed every window before the others' backlog arrived).
 *
 * A partition stops holding the watermark back only when it is **idle**: the
 * runtime confirmed it is caught up (no unread records: its position has
 * reached its end offset) *and* it delivered no record for `idleTimeoutMs`.
 * A partition with unread records is never idle, however long its records
 * take to arrive. Idleness is decided by a check the runtime runs against the
 * broker (`beginCheck` → end offsets → `completeCheck`), and a check only
 * lets the watermark pass an idle partition up to what the *other*
 * partitions had delivered when the check began: records fetched after that
 * moment may have been appended after a record the idle partition has not
 * shown us yet, and must not make that record late. When every partition is
 * idle, the watermark is the minimum over the partitions that have delivered
 * records — never the maximum: a silent partition that is ahead never moves
 * the watermark past one that is behind, so it cannot make that partition's
 * next records late. (Which partition went idle first does not matter: the
 * result is the same as a check that caught the moment between the two.)
 *
 * The watermark of a Window never goes back (the operator keeps the maximum).
 */
export type PartitionId = string;

interface PartitionState {
  /** Newest event time delivered (-Infinity: none yet). */
  maxTs: number;
  /** Processing time of its last record, or of its assignment (restore, takeover). */
  lastActivity: number;
  /** Processing time of its last record (-Infinity: none in this process). */
  lastRecord: number;
}

/** What a check saw when it began: every partition's newest event time then. */
export interface WatermarkCheck {
  readonly at: number;
  readonly maxTs: ReadonlyMap<PartitionId, number>;
}

export interface PartitionWatermarksOptions {
  /** Allowed out-of-orderness (ms): a partition's watermark is its newest event time minus this. */
  boundMs: number;
  /** How long a caught-up partition must be without records before it stops holding the watermark back. */
  idleTimeoutMs: number;
  /**
   * When set, once every partition is caught up and none delivered a record
   * for this long, each partition's watermark moves on with the processing
   * time elapsed since its last record (the node's `idleTimeout`): the last
   * windows of a quiet input close.
   */
  quietAdvanceAfterMs?: number;
}

export class PartitionWatermarks {
  private readonly parts = new Map<PartitionId, PartitionState>();
  /** Newest event time per partition from a restored changelog, applied when the partition is assigned. */
  private restored = new Map<PartitionId, number>();
  /** Cached minimum of maxTs over partitions, and how many partitions sit at it (NaN: recompute). */
  private minTs = NaN;
  private atMin = 0;
  private lastRecordAny = -Infinity;
  /** Every partition was idle at the last check, and none has delivered a record since. */
  private allIdle = false;
  /** `assign` has been called: from then on only assigned partitions count. */
  private assigned = false;

  constructor(private readonly opts: PartitionWatermarksOptions) {}

  /** Every owned partition is idle (found so by the last check, no record since): the input holds nothing back. */
  get idle(): boolean {
    return this.allIdle;
  }

  get size(): number {
    return this.parts.size;
  }

  has(id: PartitionId): boolean {
    return this.parts.has(id);
  }

  /**
   * The partitions the task owns now (its assignment): new ones hold the
   * watermark back from now on, ones no longer listed stop counting. A
   * partition keeps its state when assigned again (a rebalance that changed
   * nothing); one restored from a changelog starts from its restored event time.
   */
  assign(ids: Iterable<PartitionId>, nowMs: number): void {
    this.assigned = true;
    const keep = new Set(ids);
    for (const id of [...this.parts.keys()]) if (!keep.has(id)) this.parts.delete(id);
    for (const id of keep) if (!this.parts.has(id)) this.add(id, nowMs);
    this.minTs = NaN;
  }

  private add(id: PartitionId, nowMs: number): PartitionState {
    const p: PartitionState = { maxTs: this.restored.get(id) ?? -Infinity, lastActivity: nowMs, lastRecord: -Infinity };
    this.parts.set(id, p);
    this.minTs = NaN;
    return p;
  }

  /**
   * A record from partition `id` with event time `ts`. Callers without an
   * assignment (tests, a preview over given partitions) get the lazy
   * behaviour: a partition is added on its first record. Once `assign` was
   * called, a record of a partition not assigned now is ignored here: it was
   * fetched before a rebalance took the partition away and is run after it.
   * Added back, that partition would hold the watermark at its last event
   * time for good — no source check releases it (the task no longer reads
   * it), so the task's watermark, and every window behind it, stalled.
   */
  observe(id: PartitionId, ts: number, nowMs: number): void {
    const p = this.parts.get(id) ?? (this.assigned ? undefined : this.add(id, nowMs));
    if (!p) return;
    this.allIdle = false;
    p.lastActivity = nowMs;
    p.lastRecord = nowMs;
    if (nowMs > this.lastRecordAny) this.lastRecordAny = nowMs;
    if (ts <= p.maxTs) return;
    const old = p.maxTs;
    p.maxTs = ts;
    if (old === this.minTs && --this.atMin === 0) this.minTs = NaN;
  }

  /** The minimum over every owned partition (no exclusions): always a safe watermark. -Infinity while one has delivered nothing. */
  holding(): number {
    if (this.parts.size === 0) return -Infinity;
    if (Number.isNaN(this.minTs)) {
      let min = Infinity;
      let n = 0;
      for (const p of this.parts.values()) {
        if (p.maxTs < min) {
          min = p.maxTs;
          n = 1;
        } else if (p.maxTs === min) n++;
      }
      this.minTs = min;
      this.atMin = n;
    }
    return this.minTs - this.opts.boundMs;
  }

  /** Starts an idleness check: call before asking the broker for end offsets. */
  beginCheck(nowMs: number): WatermarkCheck {
    return { at: nowMs, maxTs: new Map([...this.parts].map(([id, p]) => [id, p.maxTs])) };
  }

  /**
   * Ends a check with the partitions found caught up (position ≥ end offset
   * read after `beginCheck`). Returns the watermark the check allows, or
   * undefined when it allows nothing: the minimum, over partitions that are
   * not idle (or, when all are, over those that have delivered records), of
   * their watermark when the check began; with `quietAdvanceAfterMs`, at
   * least the quiet-input advance.
   */
  completeCheck(check: WatermarkCheck, caughtUp: ReadonlySet<PartitionId>, nowMs: number): number | undefined {
    const { boundMs, idleTimeoutMs, quietAdvanceAfterMs } = this.opts;
    let min = Infinity;
    let minAll = Infinity;
    let anyHolding = false;
    let allCaughtUp = this.parts.size > 0;
    let quiet = Infinity;
    for (const [id, p] of this.parts) {
      const up = caughtUp.has(id);
      if (!up) allCaughtUp = false;
      // A partition assigned after the check began has no entry: it holds at -∞.
      const seen = check.maxTs.has(id) ? check.maxTs.get(id)! : -Infinity;
      if (Number.isFinite(seen) && seen < minAll) minAll = seen;
      if (!(up && nowMs - p.lastActivity >= idleTimeoutMs)) {
        anyHolding = true;
        if (seen < min) min = seen;
      }
      if (Number.isFinite(seen)) {
        const since = Number.isFinite(p.lastRecord) ? p.lastRecord : p.lastActivity;
        const q = seen + Math.max(0, nowMs - since);
        if (q < quiet) quiet = q;
      }
    }
    // Every partition idle: the slowest one that has delivered records sets it.
    this.allIdle = !anyHolding && this.parts.size > 0;
    const bound = anyHolding ? min : minAll;
    let w: number | undefined = Number.isFinite(bound) ? bound - boundMs : undefined;
    if (quietAdvanceAfterMs !== undefined && allCaughtUp && Number.isFinite(quiet)) {
      const lastAny = Number.isFinite(this.lastRecordAny) ? this.lastRecordAny : Math.min(...[...this.parts.values()].map((p) => p.lastActivity));
      if (nowMs - lastAny >= quietAdvanceAfterMs) {
        const q = quiet - boundMs;
        if (w === undefined || q > w) w = q;
      }
    }
    return w;
  }

  /** Newest event time per partition, for the changelog (finite values only). */
  snapshot(): Record<PartitionId, number> {
    const out: Record<PartitionId, number> = {};
    for (const [id, p] of [...this.parts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) if (Number.isFinite(p.maxTs)) out[id] = p.maxTs;
    for (const [id, ts] of this.restored) if (!this.parts.has(id) && !(id in out)) out[id] = ts;
    return out;
  }

  /** Loads newest event times from a changelog; partitions take them when assigned (or already are). */
  restore(maxTs: Readonly<Record<PartitionId, number>>, nowMs: number): void {
    this.restored = new Map(Object.entries(maxTs).filter(([, ts]) => typeof ts === "number" && Number.isFinite(ts)));
    for (const [id, p] of this.parts) {
      p.maxTs = this.restored.get(id) ?? -Infinity;
      p.lastActivity = nowMs;
      p.lastRecord = -Infinity;
    }
    this.lastRecordAny = -Infinity;
    this.minTs = NaN;
  }
}
