import type { NodeCounts } from "@/lib/compiler";
import { BatchWriter } from "@/lib/metrics/batch-writer";
import { minuteOf, NODE_METRICS_TABLE, type NodeMetricsRow } from "@/lib/metrics/node-metrics";
import { PARTITION_LAG_TABLE, type PartitionLagRow } from "@/lib/metrics/partition-lag";
import { TASK_METRICS_TABLE, type TaskMetricsRow } from "@/lib/metrics/task-metrics";
import { clickhouse, clickhouseUrl } from "@/lib/clickhouse/client";

export type { TaskMetricsRow } from "@/lib/metrics/task-metrics";

/**
 * SLUICE_METRICS=off keeps a task's counts in memory (status, the canvas) but
 * writes nothing to ClickHouse; the runtime bench measures what writing costs.
 */
export function metricsWritingEnabled(): boolean {
  return !!clickhouseUrl() && (process.env.SLUICE_METRICS ?? "on").toLowerCase() !== "off";
}

const utcSecond = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");

/** Median of a sample (sorted in place); 0 when empty. */
function median(xs: number[]): number {
  if (!xs.length) return 0;
  xs.sort((a, b) => a - b);
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

/** At most this many batch times are kept per sample for the median (a uniform reservoir beyond it). */
const BATCH_SAMPLE = 512;

/**
 * Per-task metric accumulation: node counts are summed per minute in memory
 * and written as partial-minute rows (SummingMergeTree adds them up), task
 * samples and per-partition lags once per flush. Writes go through the
 * buffered batch writers. `flushedThrough` is the time up to which every
 * count of this task is in ClickHouse: reconciliation treats later minutes as
 * pending for as long as the task lives.
 */
export class TaskMetrics {
  private minutes = new Map<string, Map<string, NodeMetricsRow>>();
  private batches = 0;
  private batchMsSum = 0;
  private batchMsMax = 0;
  private batchTimes: number[] = [];
  private recordsIn = 0;
  private recordsOut = 0;
  private nodeWriter?: BatchWriter<NodeMetricsRow>;
  private taskWriter?: BatchWriter<TaskMetricsRow>;
  private lagWriter?: BatchWriter<PartitionLagRow>;
  private flushing: Promise<void> | undefined;
  consumerLag = 0;
  eventTimeLagMs = 0;
  windowOpen = 0;
  /** Lag of each source partition this task reads ("topic:partition" → records behind). */
  readonly partitionLags = new Map<string, number>();
  totalIn = 0;
  totalOut = 0;
  totalErrored = 0;
  /** Every count recorded before this time (epoch ms) is in ClickHouse (or metrics are not written at all). */
  flushedThrough = 0;
  /** Records out of each node since the task started (the canvas shows each node's rate while deployed). */
  readonly nodeOut = new Map<string, number>();

  constructor(private readonly ids: { deploymentId: string; pipelineId: string; stage: string; taskIndex: number; workerId: string; version: number }) {
    // Metrics are optional infrastructure: without ClickHouse a pipeline still runs.
    if (metricsWritingEnabled()) {
      this.nodeWriter = new BatchWriter(clickhouse(), { table: NODE_METRICS_TABLE, flushIntervalMs: 5_000 });
      this.taskWriter = new BatchWriter(clickhouse(), { table: TASK_METRICS_TABLE, flushIntervalMs: 5_000 });
      this.lagWriter = new BatchWriter(clickhouse(), { table: PARTITION_LAG_TABLE, flushIntervalMs: 5_000 });
    }
  }

  recordBatch(perNode: Map<string, NodeCounts>, bytes: { in: number; out: number; sourceNodes: Set<string>; sinkNodes: Set<string> }, batchMs: number, at = Date.now()) {
    const minute = minuteOf(at);
    let rows = this.minutes.get(minute);
    if (!rows) this.minutes.set(minute, (rows = new Map()));
    for (const [nodeId, c] of perNode) {
      let r = rows.get(nodeId);
      if (!r) {
        r = { minute, deployment_id: this.ids.deploymentId, pipeline_id: this.ids.pipelineId, node_id: nodeId, task_index: this.ids.taskIndex, version: this.ids.version, records_in: 0, records_out: 0, records_filtered: 0, records_errored: 0, records_late: 0, bytes_in: 0, bytes_out: 0 };
        rows.set(nodeId, r);
      }
      r.records_in += c.in;
      r.records_out += c.out;
      r.records_filtered += c.filtered;
      r.records_errored += c.errored;
      r.records_late += c.late ?? 0;
      this.nodeOut.set(nodeId, (this.nodeOut.get(nodeId) ?? 0) + c.out);
      if (bytes.sourceNodes.has(nodeId)) {
        r.bytes_in += bytes.in;
        this.recordsIn += c.in;
        this.totalIn += c.in;
      }
      if (bytes.sinkNodes.has(nodeId)) {
        r.bytes_out += bytes.out;
        this.recordsOut += c.out;
        this.totalOut += c.out;
      }
      this.totalErrored += c.errored;
    }
    if (batchMs > 0 || bytes.in > 0) {
      this.batches++;
      this.batchMsSum += batchMs;
      this.batchMsMax = Math.max(this.batchMsMax, batchMs);
      if (this.batchTimes.length < BATCH_SAMPLE) this.batchTimes.push(batchMs);
      else {
        const j = Math.floor(Math.random() * this.batches);
        if (j < BATCH_SAMPLE) this.batchTimes[j] = batchMs;
      }
    }
  }

  /**
   * Moves accumulated rows into the writers and flushes them in the
   * background; `flushedThrough` advances to `now` once they are all in.
   */
  collect(now = Date.now()) {
    for (const rows of this.minutes.values()) this.nodeWriter?.write([...rows.values()]);
    this.minutes.clear();
    const ts = utcSecond(now);
    this.taskWriter?.write({
      ts, ts_ms: now, deployment_id: this.ids.deploymentId, pipeline_id: this.ids.pipelineId, stage: this.ids.stage, task_index: this.ids.taskIndex, worker_id: this.ids.workerId,
      batches: this.batches, records_in: this.recordsIn, records_out: this.recordsOut,
      batch_ms_avg: this.batches ? this.batchMsSum / this.batches : 0, batch_ms_p50: median(this.batchTimes), batch_ms_max: this.batchMsMax,
      consumer_lag: this.consumerLag, event_time_lag_ms: Math.round(this.eventTimeLagMs), window_open: this.windowOpen,
    });
    if (this.lagWriter) {
      for (const [key, lag] of this.partitionLags) {
        const i = key.lastIndexOf(":");
        this.lagWriter.write({ ts, deployment_id: this.ids.deploymentId, pipeline_id: this.ids.pipelineId, task_index: this.ids.taskIndex, topic: key.slice(0, i), partition: Number(key.slice(i + 1)), consumer_lag: lag });
      }
    }
    this.batches = 0;
    this.batchMsSum = 0;
    this.batchMsMax = 0;
    this.batchTimes = [];
    this.recordsIn = 0;
    this.recordsOut = 0;
    if (!this.nodeWriter) {
      this.flushedThrough = now;
      return;
    }
    const writers = [this.nodeWriter, this.taskWriter!, this.lagWriter!];
    const flushing = (this.flushing ?? Promise.resolve())
      .then(() => Promise.all(writers.map((w) => w.flush())))
      .then(() => {
        // A failed insert keeps its rows buffered: the counts are not in yet.
        if (writers.every((w) => w.pending === 0)) this.flushedThrough = Math.max(this.flushedThrough, now);
      });
    this.flushing = flushing;
    void flushing.finally(() => {
      if (this.flushing === flushing) this.flushing = undefined;
    });
  }

  async close() {
    this.collect();
    await this.flushing;
    await Promise.all([this.nodeWriter?.close(), this.taskWriter?.close(), this.lagWriter?.close()]);
  }
}
