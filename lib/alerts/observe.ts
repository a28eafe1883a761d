import type { AlertCondition } from "@prisma/client";

/**
 * What the evaluator knows about a rule's target in one round, and the value
 * and verdict of each condition over it (pure: lib/alerts/evaluator.ts
 * gathers the facts for every rule at once, in a handful of queries).
 */
export interface PipelineFacts {
  kind: "pipeline";
  deployed: boolean;
  desiredState: "running" | "stopped" | null;
  actualState: string | null;
  /** Records behind the committed offsets of the pipeline's consumer group (null: unknown). */
  consumerLag: number | null;
  /** Records/s read now, summed over live tasks (0 when nothing runs). */
  recordsPerSec: number;
  /** Records read and errored per minute (unix seconds), from ClickHouse; null when metrics are unavailable. */
  readsByMinute: Map<number, number> | null;
  erroredByMinute: Map<number, number> | null;
  /** Epoch ms of each task failure (crash) recently. */
  failures: number[];
  /** Minute starts (unix seconds) that are settled and do not balance; null when not checked. */
  mismatchedMinutes: number[] | null;
}

export interface StreamFacts {
  kind: "stream";
  /** Records in the stream (sum of partitions' high watermarks); null: the broker did not answer or the team lost access. */
  high: number | null;
}

/** Carried from round to round in the rule row (so it survives an evaluator failover). */
export interface StreamMemory {
  high?: number;
  at?: number;
  changedAt?: number;
}

export interface Observation {
  value: number | null;
  holds: boolean | null;
  memory?: StreamMemory;
}

export interface RuleLike {
  condition: AlertCondition;
  threshold: number;
  forSeconds: number;
  createdAt: number;
  memory: StreamMemory;
}

const sumSince = (m: Map<number, number>, fromSec: number) => {
  let n = 0;
  for (const [t, v] of m) if (t + 60 > fromSec) n += v;
  return n;
};

/** Error rates look at the last two minutes of counts: the running one and the one before. */
export const RATE_WINDOW_SEC = 120;

export function observe(rule: RuleLike, facts: PipelineFacts | StreamFacts, now: number): Observation {
  const nowSec = now / 1000;
  if (facts.kind === "stream") {
    if (facts.high === null) return { value: null, holds: null };
    const prev = rule.memory;
    const changed = prev.high === undefined || prev.high !== facts.high;
    const memory: StreamMemory = { high: facts.high, at: now, changedAt: changed ? now : prev.changedAt ?? now };
    if (rule.condition === "no_input") {
      const quietSec = (now - memory.changedAt!) / 1000;
      return { value: Math.round(quietSec), holds: quietSec >= rule.forSeconds, memory };
    }
    // throughput_below: the rate since the previous round.
    if (prev.high === undefined || prev.at === undefined || now <= prev.at) return { value: null, holds: null, memory };
    const rate = Math.max(0, facts.high - prev.high) / ((now - prev.at) / 1000);
    return { value: Math.round(rate * 100) / 100, holds: rate < rule.threshold, memory };
  }
  switch (rule.condition) {
    case "consumer_lag":
      return facts.consumerLag === null ? { value: null, holds: null } : { value: facts.consumerLag, holds: facts.consumerLag > rule.threshold };
    case "throughput_below": {
      const rate = facts.desiredState === "running" ? facts.recordsPerSec : 0;
      return { value: rate, holds: rate < rule.threshold };
    }
    case "error_rate": {
      if (!facts.readsByMinute || !facts.erroredByMinute) return { value: null, holds: null };
      const reads = sumSince(facts.readsByMinute, nowSec - RATE_WINDOW_SEC);
      const errored = sumSince(facts.erroredByMinute, nowSec - RATE_WINDOW_SEC);
      if (reads === 0) return { value: 0, holds: false };
      const pct = (errored / reads) * 100;
      return { value: Math.round(pct * 100) / 100, holds: pct > rule.threshold };
    }
    case "no_input": {
      if (!facts.readsByMinute) return { value: null, holds: null };
      const reads = sumSince(facts.readsByMinute, nowSec - rule.forSeconds);
      // Silence counts only once the rule has watched for the whole window.
      return { value: reads, holds: reads === 0 && now - rule.createdAt >= rule.forSeconds * 1000 };
    }
    case "task_failures": {
      const n = facts.failures.filter((at) => at > now - rule.forSeconds * 1000).length;
      return { value: n, holds: facts.actualState === "failed" || n > rule.threshold };
    }
    case "reconciliation_mismatch": {
      if (!facts.mismatchedMinutes) return { value: null, holds: null };
      const n = facts.mismatchedMinutes.filter((t) => t + 60 > nowSec - rule.forSeconds).length;
      return { value: n, holds: n > rule.threshold };
    }
  }
}

/** How long a condition must hold before it fires: T for level conditions, at once for window conditions. */
export function holdMs(condition: AlertCondition, forSeconds: number): number {
  return condition === "consumer_lag" || condition === "error_rate" || condition === "throughput_below" ? forSeconds * 1000 : 0;
}
