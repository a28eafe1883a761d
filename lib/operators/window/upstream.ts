/**
 * The watermark of a Window behind a repartition stream (docs/runtime.md
 * "Watermarks across the hop"). Every task of the stage before the hop
 * computes, with the same rules as a one-stage Window (`PartitionWatermarks`
 * over the source partitions it owns), the watermark of the records it
 * forwards, and writes it as a marker into every partition of the repartition
 * stream — in the same transaction as the records it covers, after them. A
 * key group (one partition of that stream) takes the minimum over every
 * upstream task of the deployment's latest generation; a task not heard from
 * yet holds it at −∞. An upstream task whose source partitions are all idle
 * says so in its marker and stops holding it back; when every upstream task
 * is idle the minimum over their watermarks is used (never the maximum).
 */
export interface WatermarkMarker {
  /** The deployment generation the upstream task runs in (a rescale or redeploy starts a new one). */
  generation: number;
  task: number;
  /** How many tasks the upstream stage has in that generation. */
  tasks: number;
  /** The watermark of what the task forwarded (−∞ before it has one), null when none yet. */
  watermark: number | null;
  /** Every source partition of the task is idle (caught up, quiet for the idle timeout). */
  idle: boolean;
}

export interface UpstreamState {
  generation: number;
  tasks: number;
  marks: [number, { w: number | null; idle: boolean }][];
}

export class UpstreamWatermarks {
  private generation = -1;
  private tasks = 0;
  private marks = new Map<number, { w: number | null; idle: boolean }>();

  /** Takes a marker; false when it is stale (an older generation) and changes nothing. */
  observe(m: WatermarkMarker): boolean {
    if (m.generation < this.generation) return false;
    if (m.generation > this.generation) {
      this.generation = m.generation;
      this.tasks = m.tasks;
      this.marks = new Map();
    }
    this.marks.set(m.task, { w: m.watermark, idle: m.idle });
    return true;
  }

  /** The watermark the markers allow, or undefined while one upstream task that holds it has not said where it is. */
  current(): number | undefined {
    if (this.tasks === 0) return undefined;
    let min = Infinity;
    let minAll = Infinity;
    let holding = false;
    for (let t = 0; t < this.tasks; t++) {
      const m = this.marks.get(t);
      if (!m) return undefined;
      const w = m.w ?? -Infinity;
      if (Number.isFinite(w) && w < minAll) minAll = w;
      if (!m.idle) {
        holding = true;
        if (w < min) min = w;
      }
    }
    const w = holding ? min : minAll;
    return Number.isFinite(w) ? w : undefined;
  }

  snapshot(): UpstreamState {
    return { generation: this.generation, tasks: this.tasks, marks: [...this.marks].sort((a, b) => a[0] - b[0]) };
  }

  restore(s: UpstreamState | undefined): void {
    this.generation = s?.generation ?? -1;
    this.tasks = s?.tasks ?? 0;
    this.marks = new Map(s?.marks ?? []);
  }
}
