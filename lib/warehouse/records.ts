import { acquireLiveSlot, guardLive, takeProcessTail } from "@/lib/auth/live-access";
import { refreshPrincipal, type Principal } from "@/lib/auth/principal";
import { liveLimits } from "@/lib/env/live";
import { requireTeamRole } from "@/lib/auth/team-access";
import { AppError } from "@/lib/errors";
import type { ReadRecord } from "@/lib/kafka/partition-reader";
import { kafkaAdmin, partitionReader } from "@/lib/kafka/shared";
import { requireStreamAccess } from "./access";
import { readQuery, type ReadQuery } from "./schemas";

export interface StreamRecord {
  partition: number;
  offset: string;
  timestamp: number;
  key: string | null;
  headers: Record<string, string>;
  /** The decoded JSON value; when the bytes are not JSON, `value` is null and `raw` holds them as text. */
  value: unknown;
  raw?: string;
}

export function toStreamRecord(r: ReadRecord): StreamRecord {
  const text = r.value?.toString("utf8") ?? null;
  let value: unknown = null;
  let raw: string | undefined;
  if (text !== null) {
    try {
      value = JSON.parse(text);
    } catch {
      raw = text;
    }
  }
  return { partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: r.key?.toString("utf8") ?? null, headers: r.headers, value, ...(raw !== undefined ? { raw } : {}) };
}

/**
 * Reads committed records: from an offset of one partition, from a time range,
 * or (by default) the newest `limit` records across partitions.
 */
export async function readRecords(principal: Principal, teamSlug: string, name: string, rawQuery: Record<string, unknown>) {
  const q: ReadQuery = readQuery.parse(rawQuery);
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const { stream } = await requireStreamAccess(team.id, name, "read");
  if (q.partition !== undefined && q.partition >= stream.partitions) {
    throw new AppError("invalid_input", `Stream "${name}" has ${stream.partitions} partitions (0–${stream.partitions - 1}).`, [{ path: ["partition"], message: "out of range" }]);
  }
  const admin = await kafkaAdmin();
  const watermarks = await admin.fetchTopicOffsets(stream.topic);
  const partitions = watermarks.filter((w) => q.partition === undefined || w.partition === q.partition);

  const reader = await partitionReader();
  const out: StreamRecord[] = [];
  const result = (records: StreamRecord[]) => ({ stream: stream.name, partitions: partitions.map((w) => ({ partition: w.partition, low: w.low, high: w.high })), records });
  const byTime = (a: StreamRecord, b: StreamRecord) => a.timestamp - b.timestamp || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset));

  if (q.fromOffset === undefined && q.fromTimestamp === undefined) {
    // Newest: each partition's newest `limit` records (offsets are not records: PartitionReader.newest), then the newest `limit` overall.
    for (const w of partitions) out.push(...(await reader.newest(stream.topic, w.partition, BigInt(w.low), BigInt(w.high), q.limit)).records.map(toStreamRecord));
    return result(out.sort(byTime).slice(-q.limit));
  }

  const starts =
    q.fromOffset !== undefined
      ? new Map([[q.partition!, q.fromOffset]])
      : new Map((await admin.fetchTopicOffsetsByTimestamp(stream.topic, q.fromTimestamp)).filter((o) => partitions.some((p) => p.partition === o.partition)).map((o) => [o.partition, BigInt(o.offset)]));
  const highs = new Map(partitions.map((w) => [w.partition, BigInt(w.high)]));
  for (const [partition, start] of starts) {
    let offset = start;
    const high = highs.get(partition) ?? 0n;
    let collected = 0;
    while (offset < high && collected < q.limit) {
      const res = await reader.fetch(stream.topic, partition, offset.toString(), { maxBytes: 1024 * 1024 });
      for (const r of res.records) {
        // Offsets-by-time may land on the start of a batch: skip what is older.
        if (q.fromTimestamp !== undefined && r.timestamp < q.fromTimestamp) continue;
        if (q.toTimestamp !== undefined && r.timestamp > q.toTimestamp) {
          offset = high;
          break;
        }
        if (collected >= q.limit) break;
        out.push(toStreamRecord(r));
        collected++;
      }
      const next = BigInt(res.nextOffset);
      if (next <= offset) break;
      offset = offset === high ? high : next;
    }
  }
  out.sort(byTime);
  return result(q.fromOffset !== undefined ? out : out.slice(0, q.limit));
}

/**
 * Opens a live tail of a stream: checks access and takes one of the caller's
 * tail slots now (so refusals are ordinary JSON errors), then returns the
 * stream of batches of records appended after it opened. While open, the tail
 * re-checks every few seconds that the caller may still read the stream —
 * token not revoked, session not signed out, still a member of the team, the
 * read grant still approved — and ends with that error when not; it also ends
 * after TAIL_MAX_SECONDS (lib/auth/live-access.ts, docs/security.md).
 * `reauthenticate` re-reads the caller from the request (sessions); by
 * default the principal itself is checked again (tokens, the CLI).
 */
export async function openTail(principal: Principal, teamSlug: string, name: string, opts: { reauthenticate?: () => Promise<Principal> } = {}): Promise<(signal: AbortSignal) => AsyncGenerator<StreamRecord[]>> {
  const limits = liveLimits();
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const { stream } = await requireStreamAccess(team.id, name, "read");
  const slot = await acquireLiveSlot(principal, "tail", limits.TAILS_PER_USER, limits.LIVE_ACCESS_RECHECK_MS * 3, "live tails");
  let releaseProcess: () => void;
  try {
    releaseProcess = takeProcessTail(limits.TAILS_PER_PROCESS);
  } catch (e) {
    await slot.release();
    throw e;
  }
  const reauthenticate = opts.reauthenticate ?? (() => refreshPrincipal(principal));
  const check = async () => {
    const current = await reauthenticate();
    const access = await requireTeamRole(current, teamSlug, "viewer");
    await requireStreamAccess(access.team.id, name, "read");
  };
  const max = limits.TAIL_MAX_SECONDS;
  const duration = max % 60 === 0 ? `${max / 60} minute${max === 60 ? "" : "s"}` : `${max} second${max === 1 ? "" : "s"}`;
  return async function* tail(signal: AbortSignal) {
    try {
      yield* guardLive((inner) => pollTail(stream.topic, inner), signal, {
        check,
        recheckMs: limits.LIVE_ACCESS_RECHECK_MS,
        renewed: slot.renew,
        maxLifetimeMs: limits.TAIL_MAX_SECONDS * 1000,
        expiredMessage: `This live tail reached its maximum duration of ${duration}; open it again to go on.`,
      });
    } finally {
      releaseProcess();
      await slot.release().catch(() => undefined);
    }
  };
}

/** Batches of records appended to `topic` after the call, until the signal aborts; polls each partition from its high watermark. */
async function* pollTail(topic: string, signal: AbortSignal): AsyncGenerator<StreamRecord[]> {
  const admin = await kafkaAdmin();
  const positions = new Map((await admin.fetchTopicOffsets(topic)).map((w) => [w.partition, w.high]));
  const reader = await partitionReader();
  while (!signal.aborted) {
    const batch: StreamRecord[] = [];
    for (const [partition, offset] of positions) {
      const res = await reader.fetch(topic, partition, offset, { maxBytes: 512 * 1024 });
      batch.push(...res.records.map(toStreamRecord));
      positions.set(partition, res.nextOffset);
    }
    if (batch.length) yield batch.sort((a, b) => a.timestamp - b.timestamp);
    else await new Promise((r) => setTimeout(r, 250));
  }
}
