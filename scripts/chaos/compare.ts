/**
 * Multiset comparisons of a sink's records with the reference's. Pure.
 * Records are compared by identity strings (see recordIdentity): the same
 * record written twice is a duplicate, a reference record absent is missing,
 * anything the reference does not have at all is unexpected (wrong output).
 */
export interface Comparison {
  expected: number;
  actual: number;
  /** Reference records (counting multiplicity) the sink lacks. */
  missing: number;
  /** Extra copies of reference records. */
  duplicates: number;
  /** Sink records the reference does not have at all. */
  unexpected: number;
  missingSamples: string[];
  duplicateSamples: string[];
  unexpectedSamples: string[];
}

const SAMPLES = 5;

export function compareMultisets(expected: readonly string[], actual: readonly string[]): Comparison {
  const want = new Map<string, number>();
  for (const e of expected) want.set(e, (want.get(e) ?? 0) + 1);
  const got = new Map<string, number>();
  for (const a of actual) got.set(a, (got.get(a) ?? 0) + 1);
  const c: Comparison = { expected: expected.length, actual: actual.length, missing: 0, duplicates: 0, unexpected: 0, missingSamples: [], duplicateSamples: [], unexpectedSamples: [] };
  for (const [k, n] of want) {
    const m = got.get(k) ?? 0;
    if (m < n) {
      c.missing += n - m;
      if (c.missingSamples.length < SAMPLES) c.missingSamples.push(k);
    } else if (m > n) {
      c.duplicates += m - n;
      if (c.duplicateSamples.length < SAMPLES) c.duplicateSamples.push(k);
    }
  }
  for (const [k, m] of got) {
    if (want.has(k)) continue;
    c.unexpected += m;
    if (c.unexpectedSamples.length < SAMPLES) c.unexpectedSamples.push(k);
  }
  return c;
}

/** JSON with object keys sorted, so two encodings of the same record compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** A sink record's identity: its Kafka key and its value as canonical JSON (or the raw text when it is not JSON). */
export function recordIdentity(key: string | null, value: Buffer | Uint8Array | null): string {
  const text = value === null ? "null" : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8");
  let body = text;
  try {
    body = canonicalJson(JSON.parse(text));
  } catch {
    // not JSON: compared as written
  }
  return `${key ?? "∅"} ${body}`;
}

/**
 * Per key, records must keep the reference's relative order (exactly_once,
 * one source: a key lives in one source partition and one task writes it).
 * Counts keys whose sequence of first occurrences differs.
 */
export function orderViolations(expected: readonly { key: string; id: string }[], actual: readonly { key: string; id: string }[]): { keys: number; samples: string[] } {
  const seqs = (rows: readonly { key: string; id: string }[]) => {
    const m = new Map<string, string[]>();
    for (const r of rows) {
      let l = m.get(r.key);
      if (!l) m.set(r.key, (l = []));
      l.push(r.id);
    }
    return m;
  };
  const want = seqs(expected);
  const got = seqs(actual);
  let keys = 0;
  const samples: string[] = [];
  for (const [key, ids] of want) {
    const seen = new Set<string>();
    const order = (got.get(key) ?? []).filter((id) => (seen.has(id) ? false : (seen.add(id), true)));
    const inWant = new Set(ids);
    const mine = order.filter((id) => inWant.has(id));
    const inMine = new Set(mine);
    const theirs = [...new Set(ids)].filter((id) => inMine.has(id));
    if (mine.some((id, i) => id !== theirs[i])) {
      keys++;
      if (samples.length < 3) samples.push(key);
    }
  }
  return { keys, samples };
}
