/** The Monitor tab's preset ranges (a custom range is the other choice). */
export const MONITOR_RANGES = ["15m", "1h", "6h", "24h", "7d"] as const;
export type MonitorRange = (typeof MONITOR_RANGES)[number];
/** What the tab shows when the address names no range. */
export const DEFAULT_MONITOR_RANGE: MonitorRange = "1h";

/** Shapes of the monitor APIs (lib/monitor/pipeline-monitor.ts, reconciliation.ts, fleet.ts) as the browser receives them. */
export type Series = (number | null)[];

export interface MetricsResponse {
  pipeline: string;
  deploymentId: string | null;
  range: { from: number; to: number; step: 60 | 3600; hourly: boolean };
  t: number[];
  nodes: { id: string; type: string; in: Series; out: Series; filtered: Series; errored: Series; late: Series }[];
  tasks: { consumerLag: Series; eventTimeLagMs: Series; batchMsP50: Series; batchMsMax: Series; windowOpen: Series; batches: Series };
  partitions: { key: string; stream: string; partition: number; lag: Series }[];
  events: { at: number; kind: string; message: string; taskIndex?: number }[];
}

export interface BalanceProblem {
  nodeId: string;
  kind: "node" | "edge";
  expected: number;
  actual: number;
  difference: number;
  version: number;
  message: string;
}

export interface MinuteBalance {
  minute: string;
  status: "balanced" | "mismatch" | "pending";
  versions: number[];
  reads: number;
  written: number;
  filtered: number;
  deadLettered: number;
  late: number;
  problems: BalanceProblem[];
}

export interface ReconciliationResponse {
  from: string;
  to: string;
  settledBefore: string | null;
  summary: { minutes: number; balanced: number; mismatched: number; pending: number; reads: number; written: number; filtered: number; deadLettered: number; late: number };
  minutes: MinuteBalance[];
}
