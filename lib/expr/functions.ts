// Pure-JS digests (noble): the same code checks expressions in the browser's
// editor, where node:crypto would pull a large polyfill into the bundle.
import { md5, sha1 } from "@noble/hashes/legacy.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { charge, SCAN_COST, TRAVERSAL_COST } from "./cost";
import { EvalError, evalError } from "./errors";
import { checkRegex, regexExtract, regexFind, regexReplaceAll } from "./regex";
import { calendarField, formatDuration, formatTimestamp, parseDuration, parseTimestamp } from "./time";
import type { CelType } from "./types";
import { describeValue, isList, isMap, isStruct } from "./types";

/**
 * The Sluice CEL function library. One table drives both the type checker
 * (overload resolution by static argument types) and the closure compiler
 * (the `impl` of the chosen overload). Member and global call styles are
 * interchangeable: `s.contains("x")` and `contains(s, "x")` resolve the same.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Impl = (...args: any[]) => unknown;

export interface Overload {
  name: string;
  params: CelType[];
  /** Variadic: the last param repeats (coalesce). */
  variadic?: boolean;
  result: CelType | ((args: CelType[]) => CelType);
  impl: Impl;
  /** The impl handles null arguments itself; otherwise a null argument is an evaluation error. */
  acceptsNull?: boolean;
  /** Compile-time check of a constant argument (regex syntax, duration text). */
  checkConst?: (index: number, value: unknown) => string | undefined;
  /**
   * The impl charges the evaluation's cost budget for the characters or elements
   * it traverses (lib/expr/cost.ts); an expression calling one is metered.
   */
  sized?: boolean | ((args: CelType[]) => boolean);
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Int results: range-checked, and -0 (from -1 * 0, -1 % 1...) normalised to 0 as int64 has no negative zero. */
function checkedInt(v: number): number {
  if (v > MAX_SAFE || v < -MAX_SAFE) evalError("integer overflow");
  return v + 0;
}

export function celEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!celEquals(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a as object);
  const bo = b as Record<string, unknown>;
  if (ak.length !== Object.keys(bo).length) return false;
  for (const k of ak) if (!(k in bo) || !celEquals((a as Record<string, unknown>)[k], bo[k])) return false;
  return true;
}

function size(v: unknown): number {
  if (typeof v === "string") {
    // CEL counts code points, not UTF-16 units.
    let n = 0;
    for (const _ of v) n++;
    return n;
  }
  if (Array.isArray(v)) return v.length;
  if (v !== null && typeof v === "object") return Object.keys(v).length;
  return evalError(`size() is not defined for ${describeValue(v)}`);
}

/** 53-bit string hash (cyrb53 construction): stable across processes, fit for bucketing and keys. */
export function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

export function toText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return "null";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function digest(hash: (bytes: Uint8Array) => Uint8Array): Impl {
  return (s: string) => bytesToHex(hash(utf8ToBytes(s)));
}

/** JSON path subset: `$.a.b[0]["c d"]`. Missing segments yield null rather than an error. */
const PATH_TOKEN_RE = /\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\['([^']*)'\]/gy;

export function parseJsonPath(path: string): (string | number)[] {
  if (!path.startsWith("$")) throw new EvalError(`JSON path must start with "$": ${JSON.stringify(path)}`);
  const out: (string | number)[] = [];
  PATH_TOKEN_RE.lastIndex = 1;
  while (PATH_TOKEN_RE.lastIndex < path.length) {
    const at = PATH_TOKEN_RE.lastIndex;
    const m = PATH_TOKEN_RE.exec(path);
    if (!m || m.index !== at) throw new EvalError(`invalid JSON path ${JSON.stringify(path)} at offset ${at}`);
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(JSON.parse(`"${m[3]}"`) as string);
    else out.push(m[4]);
  }
  return out;
}

const pathCache = new Map<string, (string | number)[]>();

export function jsonPath(value: unknown, path: string): unknown {
  let segs = pathCache.get(path);
  if (!segs) {
    segs = parseJsonPath(path);
    if (pathCache.size > 256) pathCache.clear();
    pathCache.set(path, segs);
  }
  let v = value;
  for (const s of segs) {
    if (v === null || typeof v !== "object") return null;
    v = (v as Record<string | number, unknown>)[s];
    if (v === undefined) return null;
  }
  return v;
}

function parseIntStrict(s: string): number {
  if (!/^[+-]?\d+$/.test(s.trim())) evalError(`cannot convert ${JSON.stringify(s)} to int`);
  return checkedInt(Number(s));
}
function parseDoubleStrict(s: string): number {
  const n = Number(s);
  if (s.trim() === "" || Number.isNaN(n)) evalError(`cannot convert ${JSON.stringify(s)} to double`);
  return n;
}
function toIntFromDouble(d: number): number {
  if (!Number.isFinite(d)) evalError(`cannot convert ${d} to int`);
  return checkedInt(Math.trunc(d));
}

const regexConstCheck = (index: number, value: unknown) =>
  index === 1 && typeof value === "string" ? checkRegex(value) : undefined;
const durationConstCheck = (index: number, value: unknown) => {
  if (index !== 0 || typeof value !== "string") return undefined;
  try {
    parseDuration(value);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};
const timestampConstCheck = (index: number, value: unknown) => {
  if (index !== 0 || typeof value !== "string") return undefined;
  try {
    parseTimestamp(value);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};
const jsonPathConstCheck = (index: number, value: unknown) => {
  if (index !== 1 || typeof value !== "string") return undefined;
  try {
    parseJsonPath(value);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};

const elemOf = (t: CelType): CelType => (isList(t) ? t.list : "dyn");

/** Charges `perUnit` per character/element of the first argument, then runs `impl`. */
function traversing(impl: Impl, perUnit = TRAVERSAL_COST): Impl {
  return (...args: unknown[]) => {
    const first = args[0];
    charge(perUnit * (typeof first === "string" || Array.isArray(first) ? first.length : first !== null && typeof first === "object" ? Object.keys(first).length : 1));
    return impl(...args);
  };
}

/** Result-building string/list operations: charged for the result's length before it is built. */
function concatStrings(a: string, b: string): string {
  charge(TRAVERSAL_COST * (a.length + b.length));
  return a + b;
}
function concatLists(a: unknown[], b: unknown[]): unknown[] {
  charge(TRAVERSAL_COST * (a.length + b.length));
  return a.concat(b);
}
function replaceAll(s: string, a: string, b: string): string {
  const parts = s.split(a);
  charge(TRAVERSAL_COST * (s.length + (parts.length - 1) * b.length));
  return parts.join(b);
}
function joinList(l: unknown[], sep: string): string {
  const texts = l.map(toText);
  charge(TRAVERSAL_COST * (texts.reduce((n, t) => n + t.length, 0) + sep.length * Math.max(0, texts.length - 1)));
  return texts.join(sep);
}
function inList(v: unknown, l: unknown[]): boolean {
  charge(l.length);
  return l.some((x) => celEquals(x, v));
}
/** Deep equality of lists/maps is charged per element of the left side; scalars are free. */
function equalsCharged(a: unknown, b: unknown): boolean {
  if (a !== null && typeof a === "object") charge(Array.isArray(a) ? a.length : Object.keys(a).length);
  return celEquals(a, b);
}
function toJsonCharged(x: unknown): string {
  const text = JSON.stringify(x ?? null);
  charge(TRAVERSAL_COST * text.length);
  return text;
}
function toTextCharged(v: unknown): string {
  const text = toText(v);
  charge(TRAVERSAL_COST * text.length);
  return text;
}
const sized = { sized: true } as const;
/** Equality is charged only where a list or map can be compared (scalars compare in constant time). */
const mayBeCollection = (types: CelType[]) => types.some((t) => typeof t === "object" || t === "dyn");

const O = (
  name: string,
  params: CelType[],
  result: Overload["result"],
  impl: Impl,
  extra: Partial<Overload> = {},
): Overload => ({ name, params, result, impl, ...extra });

const numericOps: Overload[] = [
  O("_+_", ["int", "int"], "int", (a: number, b: number) => checkedInt(a + b)),
  O("_+_", ["double", "double"], "double", (a: number, b: number) => a + b),
  O("_+_", ["string", "string"], "string", concatStrings, sized),
  O("_+_", [{ list: "dyn" }, { list: "dyn" }], (t) => (JSON.stringify(t[0]) === JSON.stringify(t[1]) ? t[0] : { list: "dyn" }), concatLists, sized),
  O("_+_", ["timestamp", "duration"], "timestamp", (a: number, b: number) => a + b),
  O("_+_", ["duration", "timestamp"], "timestamp", (a: number, b: number) => a + b),
  O("_+_", ["duration", "duration"], "duration", (a: number, b: number) => a + b),
  O("_-_", ["int", "int"], "int", (a: number, b: number) => checkedInt(a - b)),
  O("_-_", ["double", "double"], "double", (a: number, b: number) => a - b),
  O("_-_", ["timestamp", "timestamp"], "duration", (a: number, b: number) => a - b),
  O("_-_", ["timestamp", "duration"], "timestamp", (a: number, b: number) => a - b),
  O("_-_", ["duration", "duration"], "duration", (a: number, b: number) => a - b),
  O("_*_", ["int", "int"], "int", (a: number, b: number) => checkedInt(a * b)),
  O("_*_", ["double", "double"], "double", (a: number, b: number) => a * b),
  O("_*_", ["duration", "int"], "duration", (a: number, b: number) => a * b),
  O("_/_", ["int", "int"], "int", (a: number, b: number) => (b === 0 ? evalError("division by zero") : checkedInt(Math.trunc(a / b)))),
  O("_/_", ["double", "double"], "double", (a: number, b: number) => a / b),
  O("_%_", ["int", "int"], "int", (a: number, b: number) => (b === 0 ? evalError("modulus by zero") : (a % b) + 0)),
  O("-_", ["int"], "int", (a: number) => 0 - a),
  O("-_", ["double"], "double", (a: number) => -a),
  O("-_", ["duration"], "duration", (a: number) => -a),
  O("!_", ["bool"], "bool", (a: boolean) => !a),
];

const comparable: [CelType, CelType][] = [
  ["double", "double"],
  ["string", "string"],
  ["timestamp", "timestamp"],
  ["duration", "duration"],
  ["bool", "bool"],
  // Timestamps are epoch-ms numbers in records, so `ts > 1700000000000` is a natural filter.
  ["timestamp", "int"],
  ["int", "timestamp"],
];
const cmpImpls: Record<string, Impl> = {
  "_<_": (a: number, b: number) => a < b,
  "_<=_": (a: number, b: number) => a <= b,
  "_>_": (a: number, b: number) => a > b,
  "_>=_": (a: number, b: number) => a >= b,
};
const comparisons: Overload[] = Object.entries(cmpImpls).flatMap(([name, impl]) =>
  comparable.map(([a, b]) => O(name, [a, b], "bool", impl)),
);

const indexing: Overload[] = [
  O("_[_]", [{ list: "dyn" }, "int"], (t) => elemOf(t[0]), (l: unknown[], i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= l.length) evalError(`index ${i} out of range (list size ${l.length})`);
    return l[i];
  }),
  O("_[_]", [{ map: "dyn" }, "string"], (t) => (isMap(t[0]) ? t[0].map : "dyn"), (m: Record<string, unknown>, k: string) => {
    if (!Object.prototype.hasOwnProperty.call(m, k)) evalError(`no such key: ${JSON.stringify(k)}`);
    return m[k];
  }),
  O("@in", ["dyn", { list: "dyn" }], "bool", inList, { acceptsNull: true, sized: true }),
  O("@in", ["string", { map: "dyn" }], "bool", (k: string, m: object) => Object.prototype.hasOwnProperty.call(m, k)),
  O("_==_", ["dyn", "dyn"], "bool", equalsCharged, { acceptsNull: true, sized: mayBeCollection }),
  O("_!=_", ["dyn", "dyn"], "bool", (a: unknown, b: unknown) => !equalsCharged(a, b), { acceptsNull: true, sized: mayBeCollection }),
];

const strings: Overload[] = [
  O("size", ["string"], "int", traversing(size), sized),
  O("size", [{ list: "dyn" }], "int", size),
  O("size", [{ map: "dyn" }], "int", size),
  O("contains", ["string", "string"], "bool", traversing((s: string, x: string) => s.includes(x)), sized),
  O("startsWith", ["string", "string"], "bool", (s: string, x: string) => s.startsWith(x)),
  O("endsWith", ["string", "string"], "bool", (s: string, x: string) => s.endsWith(x)),
  O("matches", ["string", "string"], "bool", traversing(regexFind, SCAN_COST), { checkConst: regexConstCheck, sized: true }),
  O("extract", ["string", "string"], "string", traversing(regexExtract, SCAN_COST), { checkConst: regexConstCheck, sized: true }),
  O("regexReplace", ["string", "string", "string"], "string", traversing(regexReplaceAll, SCAN_COST), { checkConst: regexConstCheck, sized: true }),
  O("lowerAscii", ["string"], "string", traversing((s: string) => s.toLowerCase()), sized),
  O("upperAscii", ["string"], "string", traversing((s: string) => s.toUpperCase()), sized),
  O("trim", ["string"], "string", traversing((s: string) => s.trim()), sized),
  O("replace", ["string", "string", "string"], "string", replaceAll, sized),
  O("split", ["string", "string"], { list: "string" }, traversing((s: string, sep: string) => s.split(sep)), sized),
  O("substring", ["string", "int"], "string", traversing((s: string, a: number) => {
    const cps = Array.from(s);
    if (a < 0 || a > cps.length) evalError(`substring index ${a} out of range`);
    return cps.slice(a).join("");
  }), sized),
  O("substring", ["string", "int", "int"], "string", traversing((s: string, a: number, b: number) => {
    const cps = Array.from(s);
    if (a < 0 || b > cps.length || a > b) evalError(`substring range [${a}, ${b}) out of range`);
    return cps.slice(a, b).join("");
  }), sized),
  O("indexOf", ["string", "string"], "int", traversing((s: string, x: string) => {
    const i = s.indexOf(x);
    return i < 0 ? -1 : Array.from(s.slice(0, i)).length;
  }), sized),
  O("join", [{ list: "string" }, "string"], "string", joinList, sized),
  O("join", [{ list: "string" }], "string", (l: unknown[]) => joinList(l, ""), sized),
];

const math: Overload[] = [
  O("abs", ["int"], "int", Math.abs),
  O("abs", ["double"], "double", Math.abs),
  O("ceil", ["double"], "double", Math.ceil),
  O("floor", ["double"], "double", Math.floor),
  O("round", ["double"], "double", (x: number) => Math.sign(x) * Math.round(Math.abs(x))),
  O("sqrt", ["double"], "double", Math.sqrt),
  O("pow", ["double", "double"], "double", Math.pow),
  O("greatest", ["int"], "int", Math.max, { variadic: true }),
  O("greatest", ["double"], "double", Math.max, { variadic: true }),
  O("least", ["int"], "int", Math.min, { variadic: true }),
  O("least", ["double"], "double", Math.min, { variadic: true }),
];

const conversions: Overload[] = [
  O("int", ["int"], "int", (x: number) => x),
  O("int", ["double"], "int", toIntFromDouble),
  O("int", ["string"], "int", parseIntStrict),
  O("int", ["timestamp"], "int", (x: number) => x),
  O("int", ["duration"], "int", (x: number) => x),
  O("double", ["double"], "double", (x: number) => x),
  O("double", ["string"], "double", parseDoubleStrict),
  O("string", ["timestamp"], "string", formatTimestamp),
  O("string", ["duration"], "string", formatDuration),
  O("string", ["dyn"], "string", toTextCharged, sized),
  O("bool", ["bool"], "bool", (x: boolean) => x),
  O("bool", ["string"], "bool", (s: string) => (s === "true" ? true : s === "false" ? false : evalError(`cannot convert ${JSON.stringify(s)} to bool`))),
  O("timestamp", ["string"], "timestamp", parseTimestamp, { checkConst: timestampConstCheck }),
  O("timestamp", ["int"], "timestamp", (x: number) => x),
  O("duration", ["string"], "duration", parseDuration, { checkConst: durationConstCheck }),
  O("duration", ["int"], "duration", (x: number) => x),
  O("dyn", ["dyn"], "dyn", (x: unknown) => x, { acceptsNull: true }),
];

const CALENDAR = ["getFullYear", "getMonth", "getDayOfMonth", "getDate", "getDayOfWeek", "getDayOfYear", "getHours", "getMinutes", "getSeconds", "getMilliseconds"];
const DURATION_PARTS: Record<string, number> = { getHours: 3_600_000, getMinutes: 60_000, getSeconds: 1000, getMilliseconds: 1 };
const timestamps: Overload[] = [
  ...CALENDAR.flatMap((f) => [
    O(f, ["timestamp"], "int", (ms: number) => calendarField(ms, f)),
    O(f, ["timestamp", "string"], "int", (ms: number, zone: string) => calendarField(ms, f, zone)),
  ]),
  ...Object.entries(DURATION_PARTS).map(([f, unit]) => O(f, ["duration"], "int", (ms: number) => Math.trunc(ms / unit))),
  // Aligns a timestamp down to a multiple of a duration (minute buckets, hourly partitions).
  O("truncate", ["timestamp", "duration"], "timestamp", (ms: number, d: number) => (d <= 0 ? evalError("truncate() needs a positive duration") : ms - (((ms % d) + d) % d))),
];

const misc: Overload[] = [
  O("coalesce", ["dyn"], (t) => t.find((x) => x !== "null" && x !== "dyn") ?? "dyn", (...args: unknown[]) => {
    for (const a of args) if (a !== null && a !== undefined) return a;
    return null;
  }, { acceptsNull: true, variadic: true }),
  O("isNull", ["dyn"], "bool", (x: unknown) => x === null || x === undefined, { acceptsNull: true }),
  O("jsonPath", ["dyn", "string"], "dyn", jsonPath, { acceptsNull: true, checkConst: jsonPathConstCheck }),
  O("parseJson", ["string"], "dyn", traversing((s: string) => {
    try {
      return JSON.parse(s) as unknown;
    } catch (e) {
      return evalError(`invalid JSON: ${(e as Error).message}`);
    }
  }), sized),
  O("toJson", ["dyn"], "string", toJsonCharged, { acceptsNull: true, sized: true }),
  O("hash", ["dyn"], "int", (x: unknown) => hash53(toTextCharged(x)), { acceptsNull: true, sized: true }),
  O("md5", ["string"], "string", traversing(digest(md5), SCAN_COST), sized),
  O("sha1", ["string"], "string", traversing(digest(sha1), SCAN_COST), sized),
  O("sha256", ["string"], "string", traversing(digest(sha256), SCAN_COST), sized),
];

const ALL: Overload[] = [...numericOps, ...comparisons, ...indexing, ...strings, ...math, ...conversions, ...timestamps, ...misc];

export const FUNCTIONS: ReadonlyMap<string, Overload[]> = (() => {
  const m = new Map<string, Overload[]>();
  for (const o of ALL) {
    const list = m.get(o.name) ?? [];
    list.push(o);
    m.set(o.name, list);
  }
  return m;
})();

/** Namespaced aliases as in cel-go's extension libraries (`math.abs`, `math.greatest`). */
export const NAMESPACES: Record<string, ReadonlySet<string>> = {
  math: new Set(["abs", "ceil", "floor", "round", "sqrt", "pow", "greatest", "least"]),
};

/** Names users may call, for "did you mean" on unknown functions. */
export function functionNames(): string[] {
  return [...FUNCTIONS.keys()].filter((n) => /^[a-zA-Z]/.test(n));
}

export function isStructOrMap(t: CelType): boolean {
  return isMap(t) || isStruct(t);
}

export interface FunctionSignature {
  name: string;
  /** e.g. "contains(string, string) → bool"; member style `s.contains(x)` works too. */
  signatures: string[];
}

/** The callable functions with their signatures, for the expression editor's completion and help. */
export function functionCatalog(format: (t: CelType) => string): FunctionSignature[] {
  return functionNames()
    .sort()
    .map((name) => ({
      name,
      signatures: FUNCTIONS.get(name)!.map((o) => {
        const args = o.params.map(format).join(", ") + (o.variadic ? ", ..." : "");
        const result = typeof o.result === "function" ? "dyn" : format(o.result);
        return `${name}(${args}) → ${result}`;
      }),
    }));
}
