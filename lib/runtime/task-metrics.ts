import type { NodeCounts } from "@/lib/compiler";
import { BatchWriter } from "@/lib/metrics/batch-writer";
import { minuteOf, type NodeMetricsRow } from "@/lib/metrics/node-metrics";
import { clickhouse, clickhouseUrl } from "@/lib/clickhouse/client";

export interface TaskMetricsRow {
  ts: string; // "YYYY-MM-DD hh:mm:ss" UTC
  ts_ms: number;
  deployment_id: string;
  pipeline_id: string;
  task_index: number;
  worker_id: string;
  batches: number;
  records_in: number;
  records_out: number;
  batch_ms_avg: number;
  batch_ms_max: number;
  consumer_lag: number;
  event_time_lag_ms: number;
}

/**
 * Per-task metric accumulation: node counts are summed per minute in memory
 * and written as partial-minute rows (SummingMergeTree adds them up), task
 * samples once per flush. Writes go through the buffered batch writers.
 */
export class TaskMetrics {
  private minutes = new Map<string, Map<string, NodeMetricsRow>>();
  private batches = 0;
  private batchMsSum = 0;
  private batchMsMax = 0;
  private recordsIn = 0;
  private recordsOut = 0;
  private nodeWriter?: BatchWriter<NodeMetricsRow>;
  private taskWriter?: BatchWriter<TaskMetricsRow>;
  consumerLag = 0;
  eventTimeLagMs = 0;
  totalIn = 0;
  totalOut = 0;
  totalErrored = 0;
  /** Records out of each node since the task started (the canvas shows each node's rate while deployed). */
  readonly nodeOut = new Map<string, number>();

  constructor(private readonly ids: { deploymentId: string; pipelineId: string; taskIndex: number; workerId: string }) {
    // Metrics are optional infrastructure: without ClickHouse a pipeline still runs.
    if (clickhouseUrl()) {
      this.nodeWriter = new BatchWriter(clickhouse(), { table: "node_metrics", flushIntervalMs: 5_000 });
      this.taskWriter = new BatchWriter(clickhouse(), { table: "task_metrics", flushIntervalMs: 5_000 });
    }
  }

  recordBatch(perNode: Map<string, NodeCounts>, bytes: { in: number; out: number; sourceNodes: Set<string>; sinkNodes: Set<string> }, batchMs: number, at = Date.now()) {
    const minute = minuteOf(at);
    let rows = this.minutes.get(minute);
    if (!rows) this.minutes.set(minute, (rows = new Map()));
    for (const [nodeId, c] of perNode) {
      let r = rows.get(nodeId);
      if (!r) {
        r = { minute, deployment_id: this.ids.deploymentId, pipeline_id: this.ids.pipelineId, node_id: nodeId, task_index: this.ids.taskIndex, records_in: 0, records_out: 0, records_filtered: 0, records_errored: 0, records_late: 0, bytes_in: 0, bytes_out: 0 };
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
    this.batches++;
    this.batchMsSum += batchMs;
    this.batchMsMax = Math.max(this.batchMsMax, batchMs);
  }

  /** Moves accumulated rows into the writers (which insert them in the background). */
  collect(now = Date.now()) {
    for (const rows of this.minutes.values()) this.nodeWriter?.write([...rows.values()]);
    this.minutes.clear();
    this.taskWriter?.write({
      ts: new Date(now).toISOString().slice(0, 19).replace("T", " "), ts_ms: now, deployment_id: this.ids.deploymentId, pipeline_id: this.ids.pipelineId, task_index: this.ids.taskIndex, worker_id: this.ids.workerId,
      batches: this.batches, records_in: this.recordsIn, records_out: this.recordsOut,
      batch_ms_avg: this.batches ? this.batchMsSum / this.batches : 0, batch_ms_max: this.batchMsMax,
      consumer_lag: this.consumerLag, event_time_lag_ms: this.eventTimeLagMs,
    });
    this.batches = 0;
    this.batchMsSum = 0;
    this.batchMsMax = 0;
    this.recordsIn = 0;
    this.recordsOut = 0;
  }

  async close() {
    this.collect();
    await Promise.all([this.nodeWriter?.close(), this.taskWriter?.close()]);
  }
}
