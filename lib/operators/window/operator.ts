import { durationMs, type WindowNodeConfig } from "@/lib/pipeline/nodes/window";
import type { Row } from "@/lib/pipeline/schema";
import { buildAggregator, type Aggregator } from "./aggregates";
import { PartitionWatermarks, type PartitionId, type WatermarkCheck } from "./watermarks";

/**
 * The Window operator: keyed tumbling, hopping and session windows with
 * watermarks, allowed lateness, a late side output, early results and state
 * that can be snapshotted or captured incrementally into a compacted changelog.
 *
 * Time and watermark semantics (docs/operators.md "## Window" says the same):
 * - Event time comes from `deps.eventTimeOf(row)` (epoch ms). A record without
 *   a finite number there is an error record. Without `timeField` every record
 *   gets processing time: the `nowMs` of the `process` call.
 * - Watermark W means "records older than W are not expected any more". In the
 *   default `internal` mode W = (largest event time seen) - maxOutOfOrderness,
 *   advanced record by record, so results do not depend on how records are
 *   batched. A record with ts >= W is on time, including ts == W (equal
 *   timestamps are never late). In `external` mode the runtime owns W (min over
 *   source partitions, see `PartitionWatermarks`) and passes it with
 *   `process(rows, now, {watermark})` or `onWatermark(ms)`; W never goes back.
 *   In `partitioned` mode the operator does that itself from each row's source
 *   partition (`process(rows, now, {partitions})`) with `PartitionWatermarks`:
 *   W is the minimum over every partition the task owns (`assignPartitions`) of
 *   its newest event time minus maxOutOfOrderness, so neither a fast partition
 *   nor one not fetched yet makes another's records late. A partition stops
 *   holding W back only when a source check (`beginSourceCheck`, then
 *   `advanceTime(now, {check, caughtUp})`) finds it caught up and it has had no
 *   record for idleTimeout (default PARTITION_IDLE_DEFAULT_MS); a partition with
 *   unread records never does. The per-partition event times are part of the
 *   state (snapshot and changelog), so a restarted task resumes with them.
 * - A window [start, end) closes when W >= end and emits one row per key.
 *   With allowedLateness L it is kept until W >= end + L; a record for it in
 *   that time updates it and immediately emits the updated row (same key and
 *   window). A record whose every window has end + L <= W goes to `late`, is
 *   counted in `stats().lateRecords`, and changes nothing.
 * - Session windows: a record at ts opens [ts, ts + gap); sessions of one key
 *   that overlap merge (records exactly `gap` apart are separate sessions).
 * - `advanceTime(now)`: processing-time windows close by wall clock; with
 *   `emit: {early}` open windows that changed emit partial rows every interval;
 *   with `idleTimeout`, after that long without records the watermark moves on
 *   by the processing time elapsed since the last record, so a quiet stream's
 *   last windows still close (a record arriving later may then be late). In
 *   `partitioned` mode that happens only at a source check that finds every
 *   partition caught up, each partition's watermark moving on from its own
 *   last record.
 * - Rows emitted by one firing come in no particular order.
 */
export interface WindowDeps {
  keyOf(row: Row): string;
  keyFieldsOf(row: Row): Record<string, unknown>;
  eventTimeOf(row: Row): number | undefined;
}

export interface WindowOptions {
  /**
   * "internal" (default): the operator derives the watermark from event times;
   * "partitioned": the same per source partition (rows' partitions given to process), minimum over partitions;
   * "external": the runtime supplies it.
   */
  watermarks?: "internal" | "partitioned" | "external";
  /** Track changes for `drainChanges` (default true); previews that never drain can turn it off. */
  changeCapture?: boolean;
}

/** How long a source partition may go without records before it stops holding the watermark back, when the node sets no idleTimeout. */
export const PARTITION_IDLE_DEFAULT_MS = 10_000;

export interface WindowError {
  row: Row;
  reason: string;
}

export interface WindowResult {
  out: Row[];
  late: Row[];
  errors: WindowError[];
}

export interface WindowStats {
  watermark: number | null;
  lateRecords: number;
  errorRecords: number;
  openWindows: number;
}

/** One changelog entry: the latest value for `key`, or null when the state entry was deleted (a tombstone). */
export interface WindowChange {
  key: string;
  value: unknown;
}

export class WindowSnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WindowSnapshotError";
  }
}

interface Acc {
  keyFields: Record<string, unknown>;
  vals: unknown[];
  /** Changed since last emitted (drives early results). */
  changed: boolean;
  dirty: boolean;
  logged: boolean;
}

interface Pane {
  start: number;
  end: number;
  fired: boolean;
  byKey: Map<string, Acc>;
  dirtyKeys: string[];
  headerDirty: boolean;
  headerLogged: boolean;
}

interface Session {
  start: number;
  /** Last event time + gap. */
  end: number;
  fired: boolean;
  acc: Acc;
}

interface KeySessions {
  list: Session[];
  dirty: boolean;
  logged: boolean;
}

interface MetaJson {
  watermark: number | null;
  /** `partitioned` mode: newest event time per source partition (absent in state written before it existed). */
  partitions?: Record<string, number>;
  maxTs: number | null;
  seq: number;
  lastArrival: number | null;
  lastNow: number | null;
  nextEarlyAt: number | null;
  lateRecords: number;
  errorRecords: number;
}

interface AccJson {
  k: Record<string, unknown>;
  a: unknown[];
  c: boolean;
}

interface SessionJson {
  start: number;
  end: number;
  fired: boolean;
  acc: AccJson;
}

export interface WindowSnapshot {
  v: 1;
  kind: "panes" | "sessions";
  aggregates: string[];
  meta: MetaJson;
  panes: { start: number; end: number; fired: boolean; entries: [string, AccJson][] }[];
  sessions: [string, SessionJson[]][];
}

const finiteOrNull = (n: number) => (Number.isFinite(n) ? n : null);
const posmod = (a: number, m: number) => ((a % m) + m) % m;

export class WindowOperator {
  private readonly aggs: Aggregator[];
  private readonly scratch: unknown[];
  private readonly kind: "tumbling" | "hopping" | "session";
  private readonly size: number;
  private readonly slide: number;
  private readonly gap: number;
  private readonly outOfOrderness: number;
  private readonly lateness: number;
  private readonly idleMs: number | undefined;
  private readonly earlyMs: number | undefined;
  private readonly eventTime: boolean;
  private readonly external: boolean;
  /** Per source partition newest event times ("partitioned" mode). */
  private readonly partitions: PartitionWatermarks | undefined;
  private readonly capture: boolean;
  private readonly startField: string;
  private readonly endField: string;

  private W = -Infinity;
  private maxTs = -Infinity;
  private seq = 0;
  private lastArrival = -Infinity;
  private lastNow = -Infinity;
  private nextEarlyAt = NaN;
  private lateRecords = 0;
  private errorRecords = 0;
  /** Earliest watermark at which some window fires or is purged. */
  private nextTimer = Infinity;

  private panes = new Map<number, Pane>();
  private lastPane: Pane | null = null;
  private sessions = new Map<string, KeySessions>();
  private dirtySessionKeys: string[] = [];
  private tombstones: string[] = [];

  constructor(
    config: WindowNodeConfig,
    private readonly deps: WindowDeps,
    options: WindowOptions = {},
  ) {
    this.aggs = config.aggregates.map(buildAggregator);
    this.scratch = this.aggs.map((a) => (a.countsRecords ? true : null));
    const w = config.window;
    this.kind = w.kind;
    this.size = w.kind === "session" ? 0 : durationMs(w.size);
    this.slide = w.kind === "hopping" ? durationMs(w.slide) : this.size;
    this.gap = w.kind === "session" ? durationMs(w.gap) : 0;
    if (w.kind !== "session" && (this.size <= 0 || this.slide <= 0)) throw new RangeError("window size and slide must be positive");
    if (w.kind === "session" && this.gap <= 0) throw new RangeError("session gap must be positive");
    this.eventTime = config.timeField !== undefined;
    this.outOfOrderness = this.eventTime ? durationMs(config.maxOutOfOrderness) : 0;
    this.lateness = this.eventTime ? durationMs(config.allowedLateness) : 0;
    this.idleMs = config.idleTimeout === undefined ? undefined : durationMs(config.idleTimeout);
    this.earlyMs = config.emit === "on_close" ? undefined : durationMs(config.emit.early);
    this.external = options.watermarks === "external";
    this.partitions =
      options.watermarks === "partitioned" && this.eventTime
        ? new PartitionWatermarks({ boundMs: this.outOfOrderness, idleTimeoutMs: this.idleMs ?? PARTITION_IDLE_DEFAULT_MS, quietAdvanceAfterMs: this.idleMs })
        : undefined;
    this.capture = options.changeCapture ?? true;
    this.startField = config.windowStartField;
    this.endField = config.windowEndField;
  }

  get watermark(): number {
    return this.W;
  }

  stats(): WindowStats {
    let open = 0;
    for (const p of this.panes.values()) open += p.byKey.size;
    for (const ks of this.sessions.values()) open += ks.list.length;
    return { watermark: finiteOrNull(this.W), lateRecords: this.lateRecords, errorRecords: this.errorRecords, openWindows: open };
  }

  /**
   * `partitioned` mode: the source partitions the task owns now. Each holds the
   * watermark back (at -∞ until its first record) until a source check finds
   * it idle; partitions no longer listed stop counting.
   */
  assignPartitions(ids: Iterable<PartitionId>, nowMs: number): void {
    this.partitions?.assign(ids, nowMs);
  }

  /** `partitioned` mode: starts a source check (call before reading end offsets); undefined in other modes. */
  beginSourceCheck(nowMs: number): WatermarkCheck | undefined {
    return this.partitions?.beginCheck(nowMs);
  }

  process(rows: readonly Row[], nowMs: number, opts?: { watermark?: number; partition?: PartitionId; partitions?: readonly (PartitionId | undefined)[] }): WindowResult {
    const res: WindowResult = { out: [], late: [], errors: [] };
    if (nowMs > this.lastNow) this.lastNow = nowMs;
    const now = this.lastNow;
    if (!this.eventTime) this.advanceWatermark(now, res.out);
    const { aggs, scratch, deps } = this;
    const n = aggs.length;
    rows: for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      let ts: number;
      let key: string;
      try {
        if (this.eventTime) {
          const t = deps.eventTimeOf(row);
          if (typeof t !== "number" || !Number.isFinite(t)) {
            this.fail(res, row, "record has no event time: the time field is missing, null or not a number");
            continue;
          }
          ts = t;
        } else ts = now;
        key = deps.keyOf(row);
      } catch (e) {
        this.fail(res, row, e instanceof Error ? e.message : String(e));
        continue;
      }
      // Check every aggregate's input before touching state, so a bad record changes nothing.
      for (let i = 0; i < n; i++) {
        const agg = aggs[i];
        if (agg.countsRecords) continue; // scratch[i] stays `true`
        const v = agg.read(row);
        if (agg.checks && v !== null && v !== undefined) {
          const bad = agg.check(v);
          if (bad !== undefined) {
            this.fail(res, row, `aggregate "${aggs[i].name}": ${bad}`);
            continue rows;
          }
        }
        scratch[i] = v;
      }
      this.lastArrival = now;
      const seq = ++this.seq;
      let accepted: boolean;
      try {
        accepted = this.kind === "session" ? this.addToSession(row, key, ts, seq, res.out) : this.addToPanes(row, key, ts, seq, res.out);
      } catch (e) {
        this.fail(res, row, e instanceof Error ? e.message : String(e));
        continue;
      }
      if (!accepted) {
        res.late.push(row);
        this.lateRecords++;
        continue;
      }
      if (this.partitions) {
        // Record by record, like the internal mode, so results do not depend on batching.
        this.partitions.observe(opts?.partition ?? opts?.partitions?.[r] ?? "", ts, now);
        const w = this.partitions.holding();
        if (w > this.W) {
          this.W = w;
          if (w >= this.nextTimer) this.runTimers(res.out);
        }
        if (ts > this.maxTs) this.maxTs = ts;
      } else if (ts > this.maxTs) {
        this.maxTs = ts;
        if (this.eventTime && !this.external) {
          const w = ts - this.outOfOrderness;
          if (w > this.W) {
            this.W = w;
            if (w >= this.nextTimer) this.runTimers(res.out);
          }
        }
      }
    }
    if (opts?.watermark !== undefined) this.advanceWatermark(opts.watermark, res.out);
    this.maybeEmitEarly(now, res.out);
    return res;
  }

  /** Runtime-supplied watermark (min over source partitions); returns the rows of windows it closes. */
  onWatermark(ms: number): Row[] {
    const out: Row[] = [];
    this.advanceWatermark(ms, out);
    return out;
  }

  /**
   * End of input (a preview's sample, a bounded replay): moves the watermark
   * past every window, so all open windows emit and state empties. Records
   * processed afterwards are late.
   */
  flush(): Row[] {
    const out: Row[] = [];
    this.advanceWatermark(Number.MAX_SAFE_INTEGER, out);
    return out;
  }

  /**
   * Called periodically by the runtime. Closes processing-time windows, emits
   * early results, and (with idleTimeout) advances an idle stream's watermark.
   */
  advanceTime(nowMs: number, source?: { check: WatermarkCheck; caughtUp: ReadonlySet<PartitionId> }): WindowResult {
    const res: WindowResult = { out: [], late: [], errors: [] };
    if (nowMs > this.lastNow) this.lastNow = nowMs;
    const now = this.lastNow;
    if (!this.eventTime) this.advanceWatermark(now, res.out);
    else if (this.partitions) {
      // Partitions assigned or revoked since the last record may change the minimum.
      this.advanceWatermark(this.partitions.holding(), res.out);
      if (source) {
        // Idle partitions (caught up and quiet) stop holding the watermark back; with idleTimeout a quiet input moves on.
        const w = this.partitions.completeCheck(source.check, source.caughtUp, now);
        if (w !== undefined) this.advanceWatermark(w, res.out);
      }
    }
    if (this.eventTime && !this.external && !this.partitions && this.idleMs !== undefined && this.maxTs > -Infinity && now - this.lastArrival >= this.idleMs) {
      this.advanceWatermark(this.maxTs - this.outOfOrderness + (now - this.lastArrival), res.out);
    }
    this.maybeEmitEarly(now, res.out);
    return res;
  }

  private fail(res: WindowResult, row: Row, reason: string) {
    res.errors.push({ row, reason });
    this.errorRecords++;
  }

  private advanceWatermark(w: number, out: Row[]) {
    if (w > this.W) {
      this.W = w;
      if (w >= this.nextTimer) this.runTimers(out);
    }
  }

  private newAcc(row: Row): Acc {
    const vals = new Array<unknown>(this.aggs.length);
    for (let i = 0; i < vals.length; i++) vals[i] = this.aggs[i].init();
    return { keyFields: this.deps.keyFieldsOf(row), vals, changed: false, dirty: false, logged: false };
  }

  private addValues(acc: Acc, ts: number, seq: number) {
    const { aggs, scratch } = this;
    const vals = acc.vals;
    for (let i = 0; i < aggs.length; i++) {
      const v = scratch[i];
      if (v !== null && v !== undefined) vals[i] = aggs[i].add(vals[i], v, ts, seq);
    }
  }

  private rowOf(acc: Acc, start: number, end: number): Row {
    const r: Row = {};
    const kf = acc.keyFields;
    for (const k in kf) r[k] = kf[k];
    r[this.startField] = start;
    r[this.endField] = end;
    const { aggs } = this;
    for (let i = 0; i < aggs.length; i++) r[aggs[i].name] = aggs[i].result(acc.vals[i]);
    return r;
  }

  // ---- tumbling and hopping windows: panes by start ------------------------

  private addToPanes(row: Row, key: string, ts: number, seq: number, out: Row[]): boolean {
    const { size, lateness, W } = this;
    if (this.kind === "tumbling") {
      const start = ts - posmod(ts, size);
      const end = start + size;
      if (end + lateness <= W) return false;
      const last = this.lastPane;
      this.accumulate(last !== null && last.start === start ? last : this.paneFor(start, end), row, key, ts, seq, out);
      return true;
    }
    let accepted = false;
    // Windows containing ts start at multiples of slide in (ts - size, ts]; earlier starts end earlier, so stop at the first late one.
    for (let start = ts - posmod(ts, this.slide); start > ts - size; start -= this.slide) {
      const end = start + size;
      if (end + lateness <= W) break;
      this.accumulate(this.paneFor(start, end), row, key, ts, seq, out);
      accepted = true;
    }
    return accepted;
  }

  private paneFor(start: number, end: number): Pane {
    let pane = this.panes.get(start);
    if (!pane) {
      const fired = end <= this.W;
      pane = { start, end, fired, byKey: new Map(), dirtyKeys: [], headerDirty: true, headerLogged: false };
      this.panes.set(start, pane);
      const t = fired ? end + this.lateness : end;
      if (t < this.nextTimer) this.nextTimer = t;
    }
    this.lastPane = pane;
    return pane;
  }

  private accumulate(pane: Pane, row: Row, key: string, ts: number, seq: number, out: Row[]) {
    let acc = pane.byKey.get(key);
    if (acc === undefined) {
      acc = this.newAcc(row);
      pane.byKey.set(key, acc);
    }
    this.addValues(acc, ts, seq);
    if (this.capture && !acc.dirty) {
      acc.dirty = true;
      pane.dirtyKeys.push(key);
    }
    if (pane.fired) out.push(this.rowOf(acc, pane.start, pane.end));
    else acc.changed = true;
  }

  // ---- session windows -----------------------------------------------------

  private addToSession(row: Row, key: string, ts: number, seq: number, out: Row[]): boolean {
    let ks = this.sessions.get(key);
    let start = ts;
    let end = ts + this.gap;
    let lo = -1;
    let hi = -1;
    if (ks !== undefined) {
      const list = ks.list;
      for (let i = 0; i < list.length; i++) {
        const s = list[i];
        if (s.start < end && start < s.end) {
          if (lo < 0) lo = i;
          hi = i;
        } else if (s.start >= end) break;
      }
      if (lo >= 0) {
        if (list[lo].start < start) start = list[lo].start;
        if (list[hi].end > end) end = list[hi].end;
      }
    }
    if (end + this.lateness <= this.W) return false;
    if (ks === undefined) {
      ks = { list: [], dirty: false, logged: false };
      this.sessions.set(key, ks);
    }
    let target: Session;
    if (lo < 0) {
      target = { start, end, fired: false, acc: this.newAcc(row) };
      let at = 0;
      while (at < ks.list.length && ks.list[at].start < start) at++;
      ks.list.splice(at, 0, target);
    } else {
      target = ks.list[lo];
      for (let j = lo + 1; j <= hi; j++) {
        const other = ks.list[j].acc.vals;
        const vals = target.acc.vals;
        for (let i = 0; i < this.aggs.length; i++) vals[i] = this.aggs[i].merge(vals[i], other[i]);
      }
      if (hi > lo) ks.list.splice(lo + 1, hi - lo);
      target.start = start;
      target.end = end;
    }
    this.addValues(target.acc, ts, seq);
    // A late record can stretch a closed session past the watermark: it then reopens.
    target.fired = end <= this.W;
    this.markSessions(key, ks);
    if (target.fired) {
      out.push(this.rowOf(target.acc, start, end));
      if (end + this.lateness < this.nextTimer) this.nextTimer = end + this.lateness;
    } else {
      target.acc.changed = true;
      if (end < this.nextTimer) this.nextTimer = end;
    }
    return true;
  }

  private markSessions(key: string, ks: KeySessions) {
    if (this.capture && !ks.dirty) {
      ks.dirty = true;
      this.dirtySessionKeys.push(key);
    }
  }

  // ---- firing and purging ----------------------------------------------------

  private runTimers(out: Row[]) {
    const { W, lateness } = this;
    let next = Infinity;
    if (this.kind === "session") {
      for (const [key, ks] of this.sessions) {
        const list = ks.list;
        let changed = false;
        for (let i = 0; i < list.length; ) {
          const s = list[i];
          if (!s.fired && s.end <= W) {
            out.push(this.rowOf(s.acc, s.start, s.end));
            s.fired = true;
            s.acc.changed = false;
            changed = true;
          }
          if (s.fired && s.end + lateness <= W) {
            list.splice(i, 1);
            changed = true;
            continue;
          }
          const t = s.fired ? s.end + lateness : s.end;
          if (t < next) next = t;
          i++;
        }
        if (!changed) continue;
        if (list.length === 0) {
          this.sessions.delete(key);
          if (this.capture && ks.logged) this.tombstones.push(`s:${key}`);
        } else this.markSessions(key, ks);
      }
    } else {
      const due: Pane[] = [];
      for (const pane of this.panes.values()) {
        if (!pane.fired && pane.end <= W) due.push(pane);
        else if (pane.fired && pane.end + lateness <= W) this.purge(pane);
        else {
          const t = pane.fired ? pane.end + lateness : pane.end;
          if (t < next) next = t;
        }
      }
      due.sort((a, b) => a.end - b.end || a.start - b.start);
      for (const pane of due) {
        for (const acc of pane.byKey.values()) {
          out.push(this.rowOf(acc, pane.start, pane.end));
          acc.changed = false;
        }
        pane.fired = true;
        pane.headerDirty = true;
        if (pane.end + lateness <= W) this.purge(pane);
        else if (pane.end + lateness < next) next = pane.end + lateness;
      }
    }
    this.nextTimer = next;
  }

  private purge(pane: Pane) {
    this.panes.delete(pane.start);
    if (this.lastPane === pane) this.lastPane = null;
    if (!this.capture) return;
    if (pane.headerLogged) this.tombstones.push(`P:${pane.start}`);
    for (const [key, acc] of pane.byKey) if (acc.logged) this.tombstones.push(`p:${pane.start}:${key}`);
  }

  private maybeEmitEarly(now: number, out: Row[]) {
    if (this.earlyMs === undefined) return;
    if (Number.isNaN(this.nextEarlyAt)) {
      this.nextEarlyAt = now + this.earlyMs;
      return;
    }
    if (now < this.nextEarlyAt) return;
    this.nextEarlyAt = now + this.earlyMs;
    for (const pane of this.panes.values()) {
      if (pane.fired) continue;
      for (const [key, acc] of pane.byKey) {
        if (!acc.changed) continue;
        out.push(this.rowOf(acc, pane.start, pane.end));
        acc.changed = false;
        if (this.capture && !acc.dirty) {
          acc.dirty = true;
          pane.dirtyKeys.push(key);
        }
      }
    }
    for (const [key, ks] of this.sessions) {
      let emitted = false;
      for (const s of ks.list) {
        if (s.fired || !s.acc.changed) continue;
        out.push(this.rowOf(s.acc, s.start, s.end));
        s.acc.changed = false;
        emitted = true;
      }
      if (emitted) this.markSessions(key, ks);
    }
  }

  // ---- snapshot, restore and change capture ----------------------------------

  private metaJson(): MetaJson {
    return {
      watermark: finiteOrNull(this.W),
      ...(this.partitions ? { partitions: this.partitions.snapshot() } : {}),
      maxTs: finiteOrNull(this.maxTs),
      seq: this.seq,
      lastArrival: finiteOrNull(this.lastArrival),
      lastNow: finiteOrNull(this.lastNow),
      nextEarlyAt: finiteOrNull(this.nextEarlyAt),
      lateRecords: this.lateRecords,
      errorRecords: this.errorRecords,
    };
  }

  private accJson(acc: Acc, fired: boolean): AccJson {
    return { k: acc.keyFields, a: acc.vals.map((v, i) => this.aggs[i].toJson(v)), c: !fired && acc.changed };
  }

  private accFromJson(j: AccJson): Acc {
    if (!Array.isArray(j.a) || j.a.length !== this.aggs.length) throw new WindowSnapshotError("window state does not match this node's aggregates");
    return { keyFields: j.k, vals: j.a.map((v, i) => this.aggs[i].fromJson(v)), changed: j.c, dirty: false, logged: true };
  }

  private sessionJson(s: Session): SessionJson {
    return { start: s.start, end: s.end, fired: s.fired, acc: this.accJson(s.acc, s.fired) };
  }

  /** The whole state as plain JSON (deterministic: windows and keys sorted). */
  snapshot(): WindowSnapshot {
    const byKey = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
    const panes = [...this.panes.values()]
      .sort((a, b) => a.start - b.start)
      .map((p) => ({
        start: p.start,
        end: p.end,
        fired: p.fired,
        entries: [...p.byKey].map(([k, acc]): [string, AccJson] => [k, this.accJson(acc, p.fired)]).sort(byKey),
      }));
    const sessions = [...this.sessions]
      .map(([k, ks]): [string, SessionJson[]] => [k, ks.list.map((s) => this.sessionJson(s))])
      .sort(byKey);
    return {
      v: 1,
      kind: this.kind === "session" ? "sessions" : "panes",
      aggregates: this.aggs.map((a) => `${a.name}:${a.fn}`),
      meta: this.metaJson(),
      panes,
      sessions,
    };
  }

  /** Replaces the state with a snapshot taken by an operator with the same config. */
  restore(snapshot: WindowSnapshot): void {
    if (snapshot?.v !== 1) throw new WindowSnapshotError("unknown window snapshot version");
    if (snapshot.kind !== (this.kind === "session" ? "sessions" : "panes")) throw new WindowSnapshotError("snapshot is for a different window kind");
    const aggs = this.aggs.map((a) => `${a.name}:${a.fn}`);
    if (JSON.stringify(aggs) !== JSON.stringify(snapshot.aggregates)) throw new WindowSnapshotError("snapshot is for different aggregates");
    this.reset();
    this.loadMeta(snapshot.meta);
    for (const p of snapshot.panes) {
      const byKey = new Map<string, Acc>();
      for (const [k, a] of p.entries) byKey.set(k, this.accFromJson(a));
      this.panes.set(p.start, { start: p.start, end: p.end, fired: p.fired, byKey, dirtyKeys: [], headerDirty: false, headerLogged: true });
    }
    for (const [k, list] of snapshot.sessions) this.sessions.set(k, this.sessionsFromJson(list));
    this.recomputeTimer();
  }

  private sessionsFromJson(list: SessionJson[]): KeySessions {
    return { list: list.map((s) => ({ start: s.start, end: s.end, fired: s.fired, acc: this.accFromJson(s.acc) })), dirty: false, logged: true };
  }

  private reset() {
    this.panes = new Map();
    this.lastPane = null;
    this.sessions = new Map();
    this.dirtySessionKeys = [];
    this.tombstones = [];
  }

  private loadMeta(m: MetaJson) {
    this.W = m.watermark ?? -Infinity;
    this.maxTs = m.maxTs ?? -Infinity;
    this.seq = m.seq;
    this.lastArrival = m.lastArrival ?? -Infinity;
    this.lastNow = m.lastNow ?? -Infinity;
    this.nextEarlyAt = m.nextEarlyAt ?? NaN;
    this.lateRecords = m.lateRecords;
    this.errorRecords = m.errorRecords;
    this.partitions?.restore(m.partitions ?? {}, Number.isFinite(this.lastNow) ? this.lastNow : 0);
  }

  private recomputeTimer() {
    let next = Infinity;
    for (const p of this.panes.values()) next = Math.min(next, p.fired ? p.end + this.lateness : p.end);
    for (const ks of this.sessions.values()) for (const s of ks.list) next = Math.min(next, s.fired ? s.end + this.lateness : s.end);
    this.nextTimer = next;
  }

  /**
   * State changes since the last drain, for a compacted changelog topic: keys
   * are "meta", "P:<start>" (pane header), "p:<start>:<key>" (one key's window)
   * and "s:<key>" (one key's sessions); value null deletes. Tombstones come
   * first so a key deleted and recreated between drains ends up present.
   */
  drainChanges(): WindowChange[] {
    const changes: WindowChange[] = [];
    for (const key of this.tombstones) changes.push({ key, value: null });
    this.tombstones = [];
    for (const pane of this.panes.values()) {
      if (pane.headerDirty) {
        changes.push({ key: `P:${pane.start}`, value: { end: pane.end, fired: pane.fired } });
        pane.headerDirty = false;
        pane.headerLogged = true;
      }
      for (const key of pane.dirtyKeys) {
        const acc = pane.byKey.get(key)!;
        changes.push({ key: `p:${pane.start}:${key}`, value: this.accJson(acc, pane.fired) });
        acc.dirty = false;
        acc.logged = true;
      }
      pane.dirtyKeys = [];
    }
    for (const key of this.dirtySessionKeys) {
      const ks = this.sessions.get(key);
      if (ks === undefined || !ks.dirty) continue;
      changes.push({ key: `s:${key}`, value: ks.list.map((s) => this.sessionJson(s)) });
      ks.dirty = false;
      ks.logged = true;
    }
    this.dirtySessionKeys = [];
    changes.push({ key: "meta", value: this.metaJson() });
    return changes;
  }

  /** Rebuilds the state from changelog entries (in log order; the latest value per key wins). */
  restoreFromChanges(entries: Iterable<WindowChange>): void {
    const latest = new Map<string, unknown>();
    for (const e of entries) {
      if (e.value === null) latest.delete(e.key);
      else latest.set(e.key, e.value);
    }
    this.reset();
    const meta = latest.get("meta") as MetaJson | undefined;
    if (meta) this.loadMeta(meta);
    const paneOf = (start: number) => {
      let p = this.panes.get(start);
      if (!p) {
        const end = start + this.size;
        p = { start, end, fired: end <= this.W, byKey: new Map(), dirtyKeys: [], headerDirty: false, headerLogged: false };
        this.panes.set(start, p);
      }
      return p;
    };
    for (const [key, value] of latest) {
      const tag = key.slice(0, 2);
      if (tag === "P:") {
        const p = paneOf(Number(key.slice(2)));
        const h = value as { end: number; fired: boolean };
        p.end = h.end;
        p.fired = h.fired;
        p.headerLogged = true;
      } else if (tag === "p:") {
        const sep = key.indexOf(":", 2);
        paneOf(Number(key.slice(2, sep))).byKey.set(key.slice(sep + 1), this.accFromJson(value as AccJson));
      } else if (tag === "s:") {
        this.sessions.set(key.slice(2), this.sessionsFromJson(value as SessionJson[]));
      } else if (key !== "meta") throw new WindowSnapshotError(`unknown window changelog key ${JSON.stringify(key)}`);
    }
    this.recomputeTimer();
  }
}
