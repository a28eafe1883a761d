import { durationMs, type WindowNodeConfig } from "@/lib/pipeline/nodes/window";
import { PARTITION_IDLE_DEFAULT_MS } from "./operator";
import { PartitionWatermarks, type PartitionId, type WatermarkCheck } from "./watermarks";

/**
 * The watermark a task of the stage before a repartition stream forwards to
 * the Window behind it (docs/runtime.md "Watermarks across the hop"): the
 * Window's own rules — per owned source partition, minimum over them, idle
 * partitions decided by source checks — applied to the records the task
 * writes to the repartition stream, with the Window's time field, bound and
 * idle timeout. `due` says when a marker is worth writing: when the watermark
 * crosses a point where a window of this Window ends or is purged (for
 * tumbling and hopping windows, so a 1-minute window costs one marker per
 * partition per minute and closes as early as in one stage), on every advance
 * for session windows (at most every 50 ms of processing time), and whenever
 * the task's idleness changes.
 */
export interface ForwardedWatermark {
  watermark: number | null;
  idle: boolean;
}

const SESSION_MARKER_INTERVAL_MS = 50;

export class WatermarkForwarder {
  private readonly tracker: PartitionWatermarks;
  private readonly eventTime: boolean;
  private readonly size: number;
  private readonly slide: number;
  private readonly lateness: number;
  private readonly session: boolean;
  private W = -Infinity;
  /** Set once the task knows its partitions: a task that owns none forwards nothing and holds nothing back. */
  private assigned = false;
  private sent: { w: number; idle: boolean; at: number } | undefined;

  constructor(config: WindowNodeConfig) {
    const w = config.window;
    this.eventTime = config.timeField !== undefined;
    this.session = w.kind === "session";
    this.size = w.kind === "session" ? 0 : durationMs(w.size);
    this.slide = w.kind === "hopping" ? durationMs(w.slide) : this.size;
    this.lateness = this.eventTime ? durationMs(config.allowedLateness) : 0;
    const idleMs = config.idleTimeout === undefined ? undefined : durationMs(config.idleTimeout);
    this.tracker = new PartitionWatermarks({ boundMs: this.eventTime ? durationMs(config.maxOutOfOrderness) : 0, idleTimeoutMs: idleMs ?? PARTITION_IDLE_DEFAULT_MS, quietAdvanceAfterMs: idleMs });
  }

  /** Processing-time Windows need no watermark across the hop. */
  get enabled(): boolean {
    return this.eventTime;
  }

  get watermark(): number {
    return this.W;
  }

  assign(ids: Iterable<PartitionId>, nowMs: number): void {
    this.assigned = true;
    this.tracker.assign(ids, nowMs);
    this.raise(this.tracker.holding());
  }

  /** A record forwarded from source partition `id` with event time `ts` (non-numbers are the Window's error records, not time). */
  observe(id: PartitionId, ts: unknown, nowMs: number): void {
    if (typeof ts !== "number" || !Number.isFinite(ts)) return;
    this.tracker.observe(id, ts, nowMs);
    this.raise(this.tracker.holding());
  }

  beginCheck(nowMs: number): WatermarkCheck {
    return this.tracker.beginCheck(nowMs);
  }

  completeCheck(check: WatermarkCheck, caughtUp: ReadonlySet<PartitionId>, nowMs: number): void {
    this.raise(this.tracker.holding());
    const w = this.tracker.completeCheck(check, caughtUp, nowMs);
    if (w !== undefined) this.raise(w);
  }

  private raise(w: number) {
    if (w > this.W) this.W = w;
  }

  /** The marker to write now, if any (and remembers it as sent). */
  due(nowMs: number): ForwardedWatermark | undefined {
    if (!this.eventTime) return undefined;
    const idle = this.assigned && (this.tracker.size === 0 || this.tracker.idle);
    const w = this.W;
    const last = this.sent;
    let send = !last || last.idle !== idle;
    if (!send && w > last!.w) {
      if (this.session) send = nowMs - last!.at >= SESSION_MARKER_INTERVAL_MS;
      else {
        // Window ends lie at size + k·slide, purge points at size + L + k·slide.
        const step = (x: number, off: number) => (Number.isFinite(x) ? Math.floor((x - off) / this.slide) : -Infinity);
        send = step(w, this.size) !== step(last!.w, this.size) || step(w, this.size + this.lateness) !== step(last!.w, this.size + this.lateness);
      }
    }
    if (!send) return undefined;
    this.sent = { w, idle, at: nowMs };
    return { watermark: Number.isFinite(w) ? w : null, idle };
  }
}
