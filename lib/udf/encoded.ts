import { isUtf8 } from "node:buffer";
import type { UdfForm } from "@/lib/pipeline/nodes/udf";

/**
 * Host side of the encoded UDF path (UdfSandbox.runEncoded; the isolate side
 * is ENCODED in runner.ts). Record values go in as one string and come back as
 * one string of lines; nothing here parses a record or stringifies one.
 */

/** Separates the values' texts in the input string: a control character, which valid JSON text never contains raw. */
const SEPARATOR = 0x01;
const SPACE = 0x20;
const NEWLINE = 0x0a;

/**
 * The texts of values[lo..hi) joined by the separator, decoded once. A value
 * the isolate must not be handed — a tombstone, invalid UTF-8 (the object
 * path's fatal decode), or one holding the separator byte (not valid JSON
 * anyway) — goes as an empty text, which the runner cannot parse and lists
 * as unread; the caller then decodes that value itself to say why. One check
 * over the whole chunk, per value only when it finds something.
 */
export function joinValues(values: readonly (Uint8Array | null)[], lo: number, hi: number): string {
  let size = hi - lo - 1;
  for (let i = lo; i < hi; i++) size += values[i]?.byteLength ?? 0;
  const buf = Buffer.allocUnsafe(size);
  // Spaces in the separator slots first, so one indexOf finds a separator byte inside a value.
  let at = 0;
  for (let i = lo; i < hi; i++) {
    if (i > lo) buf[at++] = SPACE;
    const v = values[i];
    if (v !== null) {
      buf.set(v, at);
      at += v.byteLength;
    }
  }
  const clean = buf.indexOf(SEPARATOR) === -1 && isUtf8(buf);
  at = 0;
  for (let i = lo; i < hi; i++) {
    if (i > lo) buf[at++] = SEPARATOR;
    const v = values[i];
    if (v === null) continue;
    if (clean || (isUtf8(v) && v.indexOf(SEPARATOR) === -1)) {
      if (!clean) buf.set(v, at);
      at += v.byteLength;
    }
  }
  return buf.toString("utf8", 0, at);
}

export interface EncodedChunk {
  /** Output values (views of one buffer), with the chunk-local input index of each. */
  values: Uint8Array[];
  outIndex: number[];
  errors: { index: number; reason: string }[];
  unread: number[];
}

const isIndexIn = (n: number) => (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0 && x < n;

/**
 * Validates and splits the runner's output for a chunk of `n` inputs; null
 * when it is malformed (a function that tampered with built-ins). The same
 * rules as the object path's decode: map accounts for every input exactly
 * once, filter keeps inputs in order, no index is both output and error.
 */
export function splitEncodedOutput(text: string, form: UdfForm, n: number): EncodedChunk | null {
  const nl = text.indexOf("\n");
  let header: unknown;
  try {
    header = JSON.parse(nl === -1 ? text : text.slice(0, nl));
  } catch {
    return null;
  }
  if (header === null || typeof header !== "object") return null;
  const { i, e, u } = header as { i: unknown; e: unknown; u: unknown };
  if (!(i === null || Array.isArray(i)) || !Array.isArray(e) || !Array.isArray(u)) return null;
  const isIndex = isIndexIn(n);
  // seen[k]: 1 = output, 2 = errored, 3 = unread.
  const seen = new Uint8Array(n);
  for (const err of e) {
    if (!Array.isArray(err) || !isIndex(err[0]) || typeof err[1] !== "string" || seen[err[0]] !== 0) return null;
    seen[err[0]] = 2;
  }
  for (const k of u) {
    if (!isIndex(k) || seen[k] !== 0) return null;
    seen[k] = 3;
  }
  let outIndex: number[];
  if (i === null) {
    // Identity: only a map where every input produced its record.
    if (form !== "map" || e.length !== 0 || u.length !== 0) return null;
    outIndex = Array.from({ length: n }, (_, k) => k);
  } else {
    outIndex = i as number[];
    let prev = -1;
    for (const k of outIndex) {
      if (!isIndex(k) || seen[k] === 2 || seen[k] === 3) return null;
      if (form === "filter" ? k <= prev || seen[k] !== 0 : form === "map" ? seen[k] === 1 : k < prev) return null;
      seen[k] = 1;
      prev = k;
    }
    if (form === "map" && !seen.every((s) => s !== 0)) return null;
  }
  const values: Uint8Array[] = [];
  if (outIndex.length > 0) {
    if (nl === -1) return null;
    // One UTF-8 encode for the chunk; the lines are views of it. The header has no raw newline, so the first byte 0x0a ends it.
    const buf = Buffer.from(text, "utf8");
    let at = buf.indexOf(NEWLINE) + 1;
    for (let j = 0; j < outIndex.length; j++) {
      let end = buf.indexOf(NEWLINE, at);
      if (end === -1) end = buf.length;
      if (end - at < 2 || buf[at] !== 0x7b || buf[end - 1] !== 0x7d) return null;
      values.push(buf.subarray(at, end));
      at = end + 1;
    }
    if (at !== buf.length + 1) return null;
  } else if (nl !== -1) return null;
  return { values, outIndex, errors: (e as [number, string][]).map(([index, reason]) => ({ index, reason })), unread: u as number[] };
}
