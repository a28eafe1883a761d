import type { AggregateFunction, WindowAggregate } from "@/lib/pipeline/nodes/window";
import { readPath, splitFieldPath, type Row } from "@/lib/pipeline/schema";
import { hllAdd, hllEmpty, hllEstimate, hllFromJson, hllMerge, hllToJson, type HllJson, type HllState } from "./hll";

/**
 * Accumulators of the ten window aggregate functions. Each aggregate of a
 * window config becomes one `Aggregator` built once per operator; per record the
 * operator only calls `read` and `add` (no per-record closures or objects for
 * count/sum/min/max/avg). Null and missing values are skipped, as in SQL.
 *
 * first/last order values by event time and, for equal timestamps, by arrival
 * (the operator's sequence number), so records with the same millisecond are
 * never reordered — also across session merges and restores.
 */
export interface Aggregator {
  fn: AggregateFunction;
  name: string;
  /** Reads the aggregate's input value from a record (undefined when there is no field). */
  read: (row: Row) => unknown;
  /** A reason when a non-null value cannot be aggregated (wrong type), else undefined. */
  check: (v: unknown) => string | undefined;
  /** False when `check` accepts everything (the operator then skips the call). */
  checks: boolean;
  /** True for `count` without a field: the input is the same for every record, nothing to read. */
  countsRecords: boolean;
  init: () => unknown;
  /** Adds a non-null value; returns the new state (number states are immutable, others mutate). */
  add: (state: unknown, v: unknown, ts: number, seq: number) => unknown;
  merge: (a: unknown, b: unknown) => unknown;
  result: (state: unknown) => unknown;
  toJson: (state: unknown) => unknown;
  fromJson: (j: unknown) => unknown;
}

/** Distinct values are compared by type and value: "1" and 1 are different. */
export function distinctKey(v: unknown): string {
  switch (typeof v) {
    case "string":
      return "s" + v;
    case "number":
      return "n" + v;
    default:
      return "j" + JSON.stringify(v);
  }
}

type Stamped = { v: unknown; ts: number; seq: number } | null;
type TopK = Map<string, { value: unknown; count: number }>;

const identity = (s: unknown) => s;
const noCheck = () => undefined;

function numberCheck(fn: string) {
  return (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? undefined : `${fn} needs a number, got ${describe(v)}`);
}

function orderedCheck(fn: string) {
  return (v: unknown) =>
    (typeof v === "number" && !Number.isNaN(v)) || typeof v === "string" ? undefined : `${fn} needs a number, timestamp or string, got ${describe(v)}`;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  const text = JSON.stringify(v) ?? String(v);
  return `${typeof v} ${text.length > 40 ? text.slice(0, 40) + "…" : text}`;
}

function fieldReader(field: string | undefined): (row: Row) => unknown {
  if (field === undefined) return () => undefined;
  const segments = splitFieldPath(field);
  if (segments.length === 1) {
    const name = segments[0];
    return (row) => row[name];
  }
  return (row) => readPath(row, segments);
}

const earlier = (a: NonNullable<Stamped>, b: NonNullable<Stamped>) => a.ts < b.ts || (a.ts === b.ts && a.seq < b.seq);

export function buildAggregator(agg: WindowAggregate): Aggregator {
  const base = {
    fn: agg.fn,
    name: agg.name,
    read: fieldReader(agg.field),
    check: noCheck as Aggregator["check"],
    checks: false,
    countsRecords: false,
    toJson: identity,
    fromJson: identity,
  };
  switch (agg.fn) {
    case "count":
      // Without a field, count counts records: the reader yields a non-null marker for every row.
      return { ...base, read: agg.field === undefined ? () => true : base.read, countsRecords: agg.field === undefined, init: () => 0, add: (s) => (s as number) + 1, merge: (a, b) => (a as number) + (b as number), result: identity };
    case "sum":
      return {
        ...base,
        check: numberCheck("sum"),
        checks: true,
        init: () => 0,
        add: (s, v) => (s as number) + (v as number),
        merge: (a, b) => (a as number) + (b as number),
        result: identity,
      };
    case "avg":
      // [sum, count]; a two-slot array mutated in place.
      return {
        ...base,
        check: numberCheck("avg"),
        checks: true,
        init: () => [0, 0],
        add: (s, v) => {
          const st = s as [number, number];
          st[0] += v as number;
          st[1] += 1;
          return st;
        },
        merge: (a, b) => {
          const x = a as [number, number];
          const y = b as [number, number];
          return [x[0] + y[0], x[1] + y[1]];
        },
        result: (s) => {
          const st = s as [number, number];
          return st[1] === 0 ? null : st[0] / st[1];
        },
        toJson: (s) => [...(s as number[])],
        fromJson: (j) => [...(j as number[])],
      };
    case "min":
    case "max": {
      const better = agg.fn === "min" ? (v: unknown, s: unknown) => (v as number) < (s as number) : (v: unknown, s: unknown) => (v as number) > (s as number);
      const pick = (s: unknown, v: unknown) => (s === null || better(v, s) ? v : s);
      return { ...base, check: orderedCheck(agg.fn), checks: true, init: () => null, add: pick, merge: (a, b) => (b === null ? a : pick(a, b)), result: identity };
    }
    case "first":
    case "last": {
      const wins =
        agg.fn === "first"
          ? (c: NonNullable<Stamped>, s: NonNullable<Stamped>) => earlier(c, s)
          : (c: NonNullable<Stamped>, s: NonNullable<Stamped>) => earlier(s, c);
      return {
        ...base,
        init: () => null,
        add: (s, v, ts, seq) => {
          const st = s as Stamped;
          const c = { v, ts, seq };
          return st === null || wins(c, st) ? c : st;
        },
        merge: (a, b) => {
          const x = a as Stamped;
          const y = b as Stamped;
          if (x === null) return y;
          if (y === null) return x;
          return wins(y, x) ? y : x;
        },
        result: (s) => (s === null ? null : (s as NonNullable<Stamped>).v),
        toJson: (s) => (s === null ? null : [(s as NonNullable<Stamped>).v, (s as NonNullable<Stamped>).ts, (s as NonNullable<Stamped>).seq]),
        fromJson: (j) => (j === null ? null : { v: (j as unknown[])[0], ts: (j as number[])[1], seq: (j as number[])[2] }),
      };
    }
    case "count_distinct":
      return {
        ...base,
        init: () => new Set<string>(),
        add: (s, v) => (s as Set<string>).add(distinctKey(v)),
        merge: (a, b) => {
          for (const v of b as Set<string>) (a as Set<string>).add(v);
          return a;
        },
        result: (s) => (s as Set<string>).size,
        toJson: (s) => [...(s as Set<string>)],
        fromJson: (j) => new Set(j as string[]),
      };
    case "approx_count_distinct":
      return {
        ...base,
        init: hllEmpty,
        add: (s, v) => hllAdd(s as HllState, distinctKey(v)),
        merge: (a, b) => hllMerge(a as HllState, b as HllState),
        result: (s) => hllEstimate(s as HllState),
        toJson: (s) => hllToJson(s as HllState),
        fromJson: (j) => hllFromJson(j as HllJson),
      };
    case "top_k": {
      // Exact counts per distinct value; the k most frequent are picked at emission.
      const k = agg.k ?? 10;
      return {
        ...base,
        init: () => new Map() as TopK,
        add: (s, v) => {
          const m = s as TopK;
          const key = distinctKey(v);
          const e = m.get(key);
          if (e) e.count++;
          else m.set(key, { value: v, count: 1 });
          return m;
        },
        merge: (a, b) => {
          const m = a as TopK;
          for (const [key, e] of b as TopK) {
            const x = m.get(key);
            if (x) x.count += e.count;
            else m.set(key, { value: e.value, count: e.count });
          }
          return m;
        },
        result: (s) => topK(s as TopK, k),
        toJson: (s) => [...(s as TopK).values()].map((e) => [e.value, e.count]),
        fromJson: (j) => new Map((j as [unknown, number][]).map(([value, count]) => [distinctKey(value), { value, count }])),
      };
    }
  }
}

/** The k most frequent values, most frequent first; ties broken by the value's normalised text so output is deterministic. */
export function topK(m: TopK, k: number): { value: unknown; count: number }[] {
  const entries = [...m.entries()];
  entries.sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return entries.slice(0, k).map(([, e]) => ({ value: e.value, count: e.count }));
}
