/**
 * The vocabulary Sluice SQL shares between its two directions (graph → SQL and
 * SQL → graph): how CEL functions are spelled in SQL, the cast types, the
 * aggregate names and the identifiers that need quoting. One table each, so a
 * spelling the generator writes is always one the parser reads back.
 */
import type { CastTarget } from "@/lib/pipeline/nodes";
import type { AggregateFunction } from "@/lib/pipeline/nodes";

/**
 * CEL functions written with a standard SQL name (same semantics as Sluice's
 * CEL). Every other CEL library function is written with its own name
 * (`getDayOfWeek(ts, 'UTC')`, `substring(s, 0, 2)`): SQL function names are
 * case-insensitive, so the parser finds them again.
 */
export const SQL_NAME_OF_CEL: Readonly<Record<string, string>> = {
  lowerAscii: "LOWER",
  upperAscii: "UPPER",
  trim: "TRIM",
  replace: "REPLACE",
  matches: "REGEXP",
  extract: "REGEXP_EXTRACT",
  regexReplace: "REGEXP_REPLACE",
  abs: "ABS",
  ceil: "CEIL",
  floor: "FLOOR",
  round: "ROUND",
  sqrt: "SQRT",
  pow: "POWER",
  greatest: "GREATEST",
  least: "LEAST",
  coalesce: "COALESCE",
  md5: "MD5",
  sha1: "SHA1",
  sha256: "SHA256",
  startsWith: "STARTSWITH",
  endsWith: "ENDSWITH",
  contains: "CONTAINS",
  size: "SIZE",
};

/** SQL spellings read as a CEL function (the table above reversed, plus common synonyms). */
export const CEL_NAME_OF_SQL: ReadonlyMap<string, string> = new Map([
  ...Object.entries(SQL_NAME_OF_CEL).map(([cel, sql]) => [sql, cel] as const),
  ["CHAR_LENGTH", "size"],
  ["CHARACTER_LENGTH", "size"],
  ["CARDINALITY", "size"],
  ["POW", "pow"],
  ["CEILING", "ceil"],
  ["REGEXP_LIKE", "matches"],
]);

/** Projection casts ↔ SQL types. Reading accepts a few synonyms per target. */
export const SQL_TYPE_OF_CAST: Readonly<Record<CastTarget, string>> = {
  string: "VARCHAR",
  int: "BIGINT",
  float: "DOUBLE",
  bool: "BOOLEAN",
  timestamp: "TIMESTAMP(3)",
  json: "JSON",
};

export const CAST_OF_SQL_TYPE: ReadonlyMap<string, CastTarget> = new Map([
  ["VARCHAR", "string"],
  ["CHAR", "string"],
  ["STRING", "string"],
  ["TEXT", "string"],
  ["BIGINT", "int"],
  ["INT", "int"],
  ["INTEGER", "int"],
  ["SMALLINT", "int"],
  ["TINYINT", "int"],
  ["DOUBLE", "float"],
  ["FLOAT", "float"],
  ["REAL", "float"],
  ["DECIMAL", "float"],
  ["BOOLEAN", "bool"],
  ["BOOL", "bool"],
  ["TIMESTAMP", "timestamp"],
  ["JSON", "json"],
]);

/** CEL conversion functions written as CAST inside expressions. */
export const CEL_CONVERSION_OF_CAST: Readonly<Partial<Record<CastTarget, string>>> = {
  string: "string",
  int: "int",
  float: "double",
  bool: "bool",
  timestamp: "timestamp",
};
export const CAST_OF_CEL_CONVERSION: ReadonlyMap<string, CastTarget> = new Map(
  Object.entries(CEL_CONVERSION_OF_CAST).map(([cast, cel]) => [cel, cast as CastTarget]),
);

/** Window aggregates ↔ SQL aggregate functions. */
export const SQL_AGGREGATE: Readonly<Record<AggregateFunction, string>> = {
  count: "COUNT",
  sum: "SUM",
  min: "MIN",
  max: "MAX",
  avg: "AVG",
  count_distinct: "COUNT",
  approx_count_distinct: "APPROX_COUNT_DISTINCT",
  first: "FIRST_VALUE",
  last: "LAST_VALUE",
  top_k: "TOP_K",
};

/** Window options written as extra arguments of the window function. */
export const WINDOW_OPTIONS = ["WATERMARK", "ALLOWED_LATENESS", "IDLE_TIMEOUT", "EMIT_EARLY"] as const;
export type WindowOption = (typeof WINDOW_OPTIONS)[number];

/**
 * Words the parser treats as keywords (or that read badly unquoted): a field
 * or view with such a name is written in backquotes.
 */
const RESERVED = new Set(
  `all and any array as asc between by case cast create current default delete desc descriptor distinct drop else end except exists extract false fetch for from full group having in inner insert intersect interval into is join key left like limit not null of offset on or order outer over partition range right row rows select session set some table then to true union unique update user using values view when where window with
   date time timestamp year month day hour minute second duration format position trim substring replace`
    .split(/\s+/)
    .filter(Boolean),
);

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An identifier as SQL text: plain when safe, else in backquotes (a backquote inside is doubled). */
export function sqlIdentifier(name: string): string {
  if (PLAIN_IDENTIFIER.test(name) && !RESERVED.has(name.toLowerCase())) return name;
  return "`" + name.replace(/`/g, "``") + "`";
}

/** Stream (table) names always go in backquotes: they contain dots. */
export function sqlStreamName(name: string): string {
  return "`" + name.replace(/`/g, "``") + "`";
}

/** A SQL string literal: single quotes, a quote inside doubled; no backslash escapes (ANSI). */
export function sqlString(value: string): string {
  return "'" + value.replace(/'/g, "''") + "'";
}

const UNIT_SQL: Record<string, string> = { s: "SECOND", m: "MINUTE", h: "HOUR", d: "DAY" };

/**
 * A window duration ("250ms", "30s", "1m") as an INTERVAL literal. The unit is
 * kept ("60s" stays 60 SECOND, not 1 MINUTE) because durations are part of a
 * window's canonical hash; milliseconds are fractional seconds with three
 * decimals ('1.000' SECOND is "1000ms", '1' SECOND is "1s").
 */
export function sqlInterval(duration: string): string {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(duration);
  if (!m) throw new Error(`not a duration: ${duration}`);
  const n = Number(m[1]);
  if (m[2] === "ms") return `INTERVAL '${Math.floor(n / 1000)}.${String(n % 1000).padStart(3, "0")}' SECOND`;
  return `INTERVAL '${n}' ${UNIT_SQL[m[2]]}`;
}

const UNIT_OF_SQL: Record<string, { ms: number; unit: string }> = {
  second: { ms: 1000, unit: "s" },
  minute: { ms: 60_000, unit: "m" },
  hour: { ms: 3_600_000, unit: "h" },
  day: { ms: 86_400_000, unit: "d" },
};

/** An INTERVAL literal as a window duration string (whole values keep their unit; fractions become "ms"), or an error. */
export function durationOfInterval(value: string, unit: string): { duration: string } | { error: string } {
  const u = UNIT_OF_SQL[unit.toLowerCase()];
  const shown = `INTERVAL '${value}' ${unit.toUpperCase()}`;
  if (!u) return { error: `${shown}: use SECOND, MINUTE, HOUR or DAY (milliseconds as fractional seconds, e.g. INTERVAL '0.250' SECOND)` };
  const v = value.trim();
  if (/^\d+$/.test(v)) return { duration: `${Number(v)}${u.unit}` };
  if (!/^\d*\.\d+$/.test(v)) return { error: `${shown} is not a plain non-negative number` };
  const [whole, frac] = v.split(".");
  // Exact decimal arithmetic: '0.1' SECOND must be 100ms, not 100.00000000000001.
  const scaled = BigInt((whole || "0") + frac) * BigInt(u.ms);
  const div = 10n ** BigInt(frac.length);
  if (scaled % div !== 0n) return { error: `${shown} is not a whole number of milliseconds` };
  return { duration: `${scaled / div}ms` };
}
