import { z } from "zod";
import { celExpression, fieldName, fieldPath } from "./common";

/**
 * Durations in Window configs are strings with one unit — "250ms", "30s", "1m",
 * "2h", "1d" — so a saved pipeline reads like the canvas shows it. The operator
 * converts them once with `durationMs`; nothing on the hot path parses text.
 */
export const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export const duration = z
  .string()
  .regex(DURATION_PATTERN, 'use a whole number and one unit: "500ms", "30s", "1m", "2h" or "1d"');
export type Duration = z.infer<typeof duration>;

/** Milliseconds in a duration string; throws for text the `duration` schema rejects. */
export function durationMs(d: Duration): number {
  const m = DURATION_PATTERN.exec(d);
  if (!m) throw new Error(`not a duration: ${JSON.stringify(d)}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/**
 * Window assigners. Tumbling and hopping windows are aligned to the epoch
 * (a 1m window starts on the minute); hopping windows overlap by size - slide.
 * A session window per key closes after `gap` without records.
 */
export const windowSpec = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("tumbling"), size: duration }),
  z.object({ kind: z.literal("hopping"), size: duration, slide: duration }),
  z.object({ kind: z.literal("session"), gap: duration }),
]);
export type WindowSpec = z.infer<typeof windowSpec>;

export const AGGREGATE_FUNCTIONS = [
  "count",
  "sum",
  "min",
  "max",
  "avg",
  "count_distinct",
  "approx_count_distinct",
  "first",
  "last",
  "top_k",
] as const;
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number];

/**
 * One output aggregate. `field` is a dotted input path; `count` without a field
 * counts records, with a field counts non-null values. `k` is for `top_k` only.
 */
export const windowAggregate = z.object({
  name: fieldName,
  fn: z.enum(AGGREGATE_FUNCTIONS),
  field: fieldPath.optional(),
  k: z.number().int().optional(),
});
export type WindowAggregate = z.infer<typeof windowAggregate>;

/** A grouping key: an output field name and the CEL expression (often just a field path) it is computed by. */
export const windowKey = z.object({ name: fieldName, expr: celExpression });
export type WindowKey = z.infer<typeof windowKey>;

/**
 * Window: keyed aggregation over tumbling, hopping or session windows.
 * - `timeField` names the event-time field (timestamp or int epoch ms); absent
 *   means processing time (when the worker sees the record).
 * - `maxOutOfOrderness` bounds how far behind the newest event a record may be
 *   and still count as on time: the watermark is newest event time minus it.
 * - `allowedLateness` keeps a closed window that long past its end; records for
 *   it update the result (a new row for the same key and window). Later records
 *   go to the `late` output and are counted.
 * - `emit`: "on_close" emits once when the watermark passes the window end;
 *   `{early: "10s"}` additionally emits partial results of open windows that
 *   changed, every 10s of processing time.
 * - `idleTimeout`: when no record arrives for this long, the watermark moves on
 *   with processing time so the last windows of a quiet stream still close.
 */
export const windowNodeConfig = z.object({
  window: windowSpec,
  timeField: fieldPath.optional(),
  maxOutOfOrderness: duration.default("0s"),
  allowedLateness: duration.default("0s"),
  idleTimeout: duration.optional(),
  keys: z.array(windowKey).default([]),
  aggregates: z.array(windowAggregate).min(1, "a window needs at least one aggregate"),
  emit: z.union([z.literal("on_close"), z.object({ early: duration })]).default("on_close"),
  windowStartField: fieldName.default("window_start"),
  windowEndField: fieldName.default("window_end"),
});
export type WindowNodeConfig = z.infer<typeof windowNodeConfig>;
export type WindowNodeConfigInput = z.input<typeof windowNodeConfig>;
