import type { AlertCondition } from "@prisma/client";

/**
 * What each alert condition means (pure). `level` conditions (lag, error rate,
 * throughput) must hold for T = forSeconds before they fire; `window`
 * conditions count over the last T and fire as soon as they hold.
 */
export interface ConditionInfo {
  label: string;
  targets: ("pipeline" | "stream")[];
  timing: "level" | "window";
  /** What `threshold` is; undefined when the condition has none. */
  threshold?: { label: string; unit: string; default: number };
  describe(threshold: number, forSeconds: number): string;
}

export const duration = (s: number) => (s % 3_600 === 0 ? `${s / 3_600} h` : s % 60 === 0 ? `${s / 60} min` : `${s} s`);

export const CONDITIONS: Record<AlertCondition, ConditionInfo> = {
  consumer_lag: {
    label: "Consumer lag above N",
    targets: ["pipeline"],
    timing: "level",
    threshold: { label: "records behind", unit: "records", default: 1_000 },
    describe: (n, t) => `consumer lag above ${n.toLocaleString("en")} records for ${duration(t)}`,
  },
  error_rate: {
    label: "Dead-letter rate above x%",
    targets: ["pipeline"],
    timing: "level",
    threshold: { label: "percent of records read", unit: "%", default: 1 },
    describe: (n, t) => `more than ${n}% of records dead-lettered for ${duration(t)}`,
  },
  no_input: {
    label: "No input for T",
    targets: ["pipeline", "stream"],
    timing: "window",
    describe: (_n, t) => `no records for ${duration(t)}`,
  },
  task_failures: {
    label: "Task failed, or restarted more than k times in T",
    targets: ["pipeline"],
    timing: "window",
    threshold: { label: "restarts allowed", unit: "restarts", default: 3 },
    describe: (n, t) => `the deployment failed, or its tasks failed more than ${n} times in ${duration(t)}`,
  },
  reconciliation_mismatch: {
    label: "Reconciliation mismatch",
    targets: ["pipeline"],
    timing: "window",
    describe: (_n, t) => `a minute in the last ${duration(t)} does not balance (records lost or counted twice)`,
  },
  throughput_below: {
    label: "Throughput below a floor",
    targets: ["pipeline", "stream"],
    timing: "level",
    threshold: { label: "records per second", unit: "records/s", default: 1 },
    describe: (n, t) => `fewer than ${n} records/s for ${duration(t)}`,
  },
};

export type RuleState = "ok" | "pending" | "firing";
export type EventKind = "pending" | "firing" | "resolved";

export interface StepResult {
  state: RuleState;
  /** Epoch ms the new state began (unchanged when the state did not change). */
  since: number | null;
  /** A transition to record (and, for firing/resolved, to notify); none while nothing changes: de-duplication. */
  event?: EventKind;
}

/**
 * The rule state machine: ok → pending when the condition starts to hold,
 * pending → firing once it held for `holdMs` (at once for window conditions),
 * firing → ok with a "resolved" event when it stops holding. A pending rule
 * whose condition stops holding goes back to ok silently. `holds === null`
 * (no data: metrics down, access revoked) changes nothing.
 */
export function step(state: RuleState, since: number | null, holds: boolean | null, holdMs: number, now: number): StepResult {
  if (holds === null) return { state, since };
  if (holds) {
    if (state === "firing") return { state, since };
    if (state === "ok") return holdMs <= 0 ? { state: "firing", since: now, event: "firing" } : { state: "pending", since: now, event: "pending" };
    return now - (since ?? now) >= holdMs ? { state: "firing", since: now, event: "firing" } : { state, since };
  }
  if (state === "firing") return { state: "ok", since: now, event: "resolved" };
  if (state === "pending") return { state: "ok", since: now };
  return { state, since };
}
