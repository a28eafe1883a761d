/**
 * Watermarks per source partition, for the runtime's `external` watermark mode:
 * each partition's watermark is its newest event time minus the allowed
 * out-of-orderness, and the stream's watermark is the minimum over partitions
 * — one slow partition holds windows open instead of making its records late.
 * A partition without records for `idleTimeoutMs` (processing time) stops
 * holding the watermark back; if every partition is idle the maximum is used.
 */
export class PartitionWatermarks {
  private readonly parts = new Map<string | number, { maxTs: number; lastSeen: number }>();

  constructor(
    private readonly maxOutOfOrdernessMs: number,
    private readonly idleTimeoutMs = Infinity,
  ) {}

  observe(partition: string | number, eventTimeMs: number, nowMs: number): void {
    const p = this.parts.get(partition);
    if (!p) this.parts.set(partition, { maxTs: eventTimeMs, lastSeen: nowMs });
    else {
      if (eventTimeMs > p.maxTs) p.maxTs = eventTimeMs;
      p.lastSeen = nowMs;
    }
  }

  /** Declares a partition that exists but has not produced records yet, so it holds the watermark back until idle. */
  assign(partition: string | number, nowMs: number): void {
    if (!this.parts.has(partition)) this.parts.set(partition, { maxTs: -Infinity, lastSeen: nowMs });
  }

  revoke(partition: string | number): void {
    this.parts.delete(partition);
  }

  /** The stream's watermark now; -Infinity until every active partition has seen a record. */
  current(nowMs: number): number {
    let min = Infinity;
    let max = -Infinity;
    for (const p of this.parts.values()) {
      if (p.maxTs > max) max = p.maxTs;
      if (nowMs - p.lastSeen >= this.idleTimeoutMs) continue;
      if (p.maxTs < min) min = p.maxTs;
    }
    const ts = min === Infinity ? max : min;
    return ts - this.maxOutOfOrdernessMs;
  }
}
