import { isUtf8 } from "node:buffer";
import type { UdfForm } from "@/lib/pipeline/nodes/udf";

/**
 * Host side of the encoded UDF path (UdfSandbox.runEncoded; the isolate side
 * is ENCODED in runner.ts). Record values go in as one string and come back as
 * one string of lines; nothing here parses a record or stringifies one.
 */

/** Separates the values' texts in the input string: a control character, which valid JSON text never contains raw. */
const SEPARATOR = 0x01;
const NEWLINE = 0x0a;

/**
 * Values the isolate can be handed: not tombstones, valid UTF-8 (the fatal
 * decode of the object path), and free of the separator byte (such a value
 * is not valid JSON anyway). One check over all values at once, per value
 * only when that finds a bad one.
 */
export function readableValues(values: readonly (Uint8Array | null)[]): { readable: number[]; unreadable: number[] } {
  const readable: number[] = [];
  const unreadable: number[] = [];
  const present: Uint8Array[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null) unreadable.push(i);
    else {
      readable.push(i);
      present.push(v);
    }
  }
  if (present.length === 0) return { readable, unreadable };
  const all = Buffer.concat(present);
  if (isUtf8(all) && all.indexOf(SEPARATOR) === -1) return { readable, unreadable };
  const good: number[] = [];
  for (const i of readable) {
    const v = values[i]!;
    if (isUtf8(v) && v.indexOf(SEPARATOR) === -1) good.push(i);
    else unreadable.push(i);
  }
  unreadable.sort((a, b) => a - b);
  return { readable: good, unreadable };
}

/** The texts of values[readable[lo..hi)] joined by the separator, decoded once. */
export function joinValues(values: readonly (Uint8Array | null)[], readable: readonly number[], lo: number, hi: number): string {
  let size = hi - lo - 1;
  for (let p = lo; p < hi; p++) size += values[readable[p]]!.byteLength;
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  for (let p = lo; p < hi; p++) {
    if (p > lo) buf[at++] = SEPARATOR;
    const v = values[readable[p]]!;
    buf.set(v, at);
    at += v.byteLength;
  }
  return buf.toString("utf8");
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
