import { AppError } from "@/lib/errors";

/**
 * Time ranges of the monitor (pure). A chart reads per-minute rows for spans up
 * to a day and the hourly rollups beyond (or when the minutes are past
 * retention), so a 7-day chart reads 168 buckets per series, not 10,080.
 */
export const PRESET_RANGES = { "15m": 15 * 60, "1h": 3_600, "6h": 6 * 3_600, "24h": 24 * 3_600, "7d": 7 * 86_400 } as const;
export type PresetRange = keyof typeof PRESET_RANGES;

/** Spans above this read the hourly rollups. */
export const MINUTE_RESOLUTION_MAX_SEC = 24 * 3_600;
/** Longest custom range (the hourly rollup's default retention is far longer, but a chart of more is unreadable). */
export const MAX_RANGE_SEC = 90 * 86_400;

export interface TimeRange {
  /** Unix seconds, inclusive, aligned to the step. */
  from: number;
  /** Unix seconds, exclusive, aligned to the step. */
  to: number;
  step: 60 | 3_600;
  hourly: boolean;
}

function parseInstant(v: string, name: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) throw new AppError("invalid_input", `"${name}" must be an ISO 8601 time or epoch milliseconds, not ${JSON.stringify(v)}.`, [{ path: [name], message: "invalid time" }]);
  return n;
}

/**
 * `range=1h` (15m, 1h, 6h, 24h, 7d; default `defaultRange`) or `from`/`to` (ISO 8601 or
 * epoch milliseconds; `to` defaults to now). The minute holding `to` is included.
 */
export function parseTimeRange(params: URLSearchParams, opts: { now?: number; defaultRange?: PresetRange; rawRetentionDays?: number } = {}): TimeRange {
  const now = opts.now ?? Date.now();
  const range = params.get("range");
  let fromMs: number;
  let toMs: number;
  if (params.get("from")) {
    fromMs = parseInstant(params.get("from")!, "from");
    toMs = params.get("to") ? parseInstant(params.get("to")!, "to") : now;
  } else {
    const preset = (range ?? opts.defaultRange ?? "1h") as PresetRange;
    if (!(preset in PRESET_RANGES)) throw new AppError("invalid_input", `"range" must be one of ${Object.keys(PRESET_RANGES).join(", ")} (or give from/to).`, [{ path: ["range"], message: "unknown range" }]);
    toMs = now;
    fromMs = now - PRESET_RANGES[preset] * 1000;
  }
  if (toMs <= fromMs) throw new AppError("invalid_input", `"to" must be after "from".`, [{ path: ["to"], message: "must be after from" }]);
  if (toMs - fromMs > MAX_RANGE_SEC * 1000) throw new AppError("invalid_input", `A range can span at most ${MAX_RANGE_SEC / 86_400} days.`, [{ path: ["from"], message: "range too long" }]);
  const rawCutoff = now - (opts.rawRetentionDays ?? 30) * 86_400_000;
  const hourly = toMs - fromMs > MINUTE_RESOLUTION_MAX_SEC * 1000 || fromMs < rawCutoff;
  const step = hourly ? 3_600 : 60;
  const from = Math.floor(fromMs / 1000 / step) * step;
  const to = (Math.floor(toMs / 1000 / step) + 1) * step;
  return { from, to, step, hourly };
}

/** Bucket starts from `from` to `to` (exclusive). */
export function bucketsOf(r: Pick<TimeRange, "from" | "to" | "step">): number[] {
  const out: number[] = [];
  for (let t = r.from; t < r.to; t += r.step) out.push(t);
  return out;
}
