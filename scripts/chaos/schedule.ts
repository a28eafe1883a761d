import { Random } from "./random";

/**
 * The fault schedule of a chaos run: which faults, and when. Pure and seeded —
 * the same seed and length give the same schedule.
 */
export const FAULT_KINDS = ["worker-kill", "worker-pause", "broker-kill", "redis-restart", "postgres-restart", "clickhouse-stop", "redeploy", "scale"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  kind: FaultKind;
  /** Milliseconds after the producer started. */
  atMs: number;
}

/** Faults start after this much steady running, so the first one hits pipelines that are flowing. */
export const WARMUP_MS = 15_000;
/** …and none starts this close to the end of production, so the last one's recovery is still measured under load. */
export const COOLDOWN_MS = 15_000;

/**
 * One round of every kind per 5 minutes of run (rounded), at least one.
 * The run is cut into equal slots, one fault per slot, kinds shuffled, each at
 * a random point of the first two thirds of its slot — so faults are spread out
 * but their order and spacing vary with the seed, and long ones (ClickHouse
 * down for 60 s, a paused worker) overlap the next faults.
 */
export function planFaults(seed: number, minutes: number): PlannedFault[] {
  const rnd = new Random(seed ^ 0x5eed);
  const rounds = Math.max(1, Math.round(minutes / 5));
  const kinds: FaultKind[] = [];
  for (let r = 0; r < rounds; r++) kinds.push(...FAULT_KINDS);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = rnd.int(0, i);
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  const span = Math.max(minutes * 60_000 - WARMUP_MS - COOLDOWN_MS, kinds.length * 1_000);
  const slot = span / kinds.length;
  return kinds.map((kind, i) => ({ kind, atMs: Math.round(WARMUP_MS + i * slot + rnd.int(0, Math.floor((slot * 2) / 3))) }));
}
