import type { Admin } from "kafkajs";
import { z } from "zod";
import type { Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";
import { PartitionReader, type ReadRecord } from "@/lib/kafka/partition-reader";
import { AppError } from "@/lib/errors";
import { kafka, kafkaAdmin } from "@/lib/kafka/shared";
import { accessOf, requireStreamAccess } from "./access";
import { streamName } from "./schemas";

/** The window that records/s is measured over. */
export const RATE_WINDOW_MS = 60_000;
/** How many of the newest records per partition are read to find the last record time and the average record size. */
export const SIZE_SAMPLE_PER_PARTITION = 20;

export interface PartitionStats {
  partition: number;
  /** Log start offset (ListOffsets earliest). */
  low: string;
  /** High watermark (ListOffsets latest): the offset the next record gets. */
  high: string;
  /** Records in the partition now: high − low, less the transaction markers among the newest offsets. */
  records: number;
  /** Records appended in the last RATE_WINDOW_MS. */
  recordsLastMinute: number;
  /** Timestamp of the newest readable record, epoch ms; null when the partition is empty. */
  lastRecordAt: number | null;
}

export interface StreamStats {
  stream: string;
  /** When the numbers were measured, epoch ms. */
  measuredAt: number;
  /** Records in the stream now (the partitions' records summed). */
  records: number;
  /** Records ever written (log start offsets + records now): retention does not lower it. */
  totalWritten: number;
  recordsLastMinute: number;
  /** recordsLastMinute / 60. */
  recordsPerSecond: number;
  lastRecordAt: number | null;
  /**
   * Kafka has a size API (DescribeLogDirs) but not every broker implements it
   * (ours does not), so the size is an estimate: the average size (key + value
   * + headers) of the newest records × the records in the stream. Batch and
   * record framing overhead and compression are not counted.
   */
  bytes: { estimate: number; averageRecordBytes: number; sampledRecords: number; method: "sampled-average" };
  partitions: PartitionStats[];
}

function recordBytes(r: ReadRecord): number {
  let n = (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const [k, v] of Object.entries(r.headers)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

/** Offsets at or after `since` in the read range that hold no record (markers of committed transactions, aborted records). */
function emptyOffsets(read: { records: ReadRecord[]; from: bigint }, high: bigint, since: bigint): number {
  const start = since > read.from ? since : read.from;
  if (start >= high) return 0;
  const seen = read.records.filter((r) => BigInt(r.offset) >= start).length;
  return Number(high - start) - seen;
}

/**
 * Live numbers for a topic, measured only through the Kafka protocol, so they
 * hold for the embedded broker and any real cluster alike:
 * - ListOffsets earliest/latest per partition → records now and ever written;
 * - ListOffsets by timestamp (now − 60 s) → the first offset of the last
 *   minute, so high − that offset = records in the last minute;
 * - Fetch of the newest records of each partition → last record time and
 *   the average record size for the size estimate.
 * Offsets count transaction markers too (one per committed transaction and
 * partition: every exactly_once pipeline and every produce through Sluice's
 * API writes transactionally), so the markers found while reading the newest
 * SIZE_SAMPLE_PER_PARTITION records are taken off: counts are exact while a
 * partition (or its last minute) lies within that read, and older markers
 * still count as records beyond it.
 */
export async function topicStats(admin: Admin, reader: PartitionReader, topic: string, now = Date.now()): Promise<Omit<StreamStats, "stream">> {
  const [watermarks, sinceWindow] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchTopicOffsetsByTimestamp(topic, now - RATE_WINDOW_MS)]);
  const partitions: PartitionStats[] = [];
  let sampledBytes = 0;
  let sampled = 0;
  for (const w of [...watermarks].sort((a, b) => a.partition - b.partition)) {
    const low = BigInt(w.low);
    const high = BigInt(w.high);
    // kafkajs answers "no record that new" with the high watermark: zero in the window.
    const windowStart = BigInt(sinceWindow.find((o) => o.partition === w.partition)?.offset ?? w.high);
    const read = await reader.newest(topic, w.partition, low, high, SIZE_SAMPLE_PER_PARTITION);
    const newest = read.records.slice(-SIZE_SAMPLE_PER_PARTITION);
    const minuteStart = windowStart > low ? windowStart : low;
    for (const r of newest) {
      sampledBytes += recordBytes(r);
      sampled++;
    }
    partitions.push({
      partition: w.partition,
      low: w.low,
      high: w.high,
      records: Number(high - low) - emptyOffsets(read, high, low),
      recordsLastMinute: Number(high - minuteStart) - emptyOffsets(read, high, minuteStart),
      lastRecordAt: newest.length ? Math.max(...newest.map((r) => r.timestamp)) : null,
    });
  }
  const records = partitions.reduce((n, p) => n + p.records, 0);
  const recordsLastMinute = partitions.reduce((n, p) => n + p.recordsLastMinute, 0);
  const lastTimes = partitions.flatMap((p) => (p.lastRecordAt === null ? [] : [p.lastRecordAt]));
  const averageRecordBytes = sampled ? sampledBytes / sampled : 0;
  return {
    measuredAt: now,
    records,
    // Records ever written: what retention removed (the log start offset) plus what is there now.
    totalWritten: partitions.reduce((n, p) => n + Number(p.low) + p.records, 0),
    recordsLastMinute,
    recordsPerSecond: recordsLastMinute / (RATE_WINDOW_MS / 1000),
    lastRecordAt: lastTimes.length ? Math.max(...lastTimes) : null,
    bytes: { estimate: Math.round(averageRecordBytes * records), averageRecordBytes: Math.round(averageRecordBytes), sampledRecords: sampled, method: "sampled-average" },
    partitions,
  };
}

/** Broker trouble is the warehouse being unavailable (503), said so, not an internal error. */
async function measuring<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError("unavailable", `Could not measure ${what} on the broker (${e instanceof Error ? e.message : String(e)}); check that the broker is reachable and try again.`);
  }
}

/**
 * The catalog's topics that exist on the broker (one metadata request, adding
 * no topic to the client's metadata targets). A stream whose topic was deleted
 * outside Sluice then gets a 503 that says so, and the catalog's stats leave it
 * out instead of failing for every stream. (The client no longer breaks on a
 * missing topic either — lib/kafka/deleted-topics.ts — but it would answer with
 * a bare protocol error.)
 */
async function existingTopics(admin: Admin, topics: string[]): Promise<Set<string>> {
  const all = new Set(await admin.listTopics());
  return new Set(topics.filter((t) => all.has(t)));
}

const missingTopic = (name: string) =>
  new AppError("unavailable", `The topic of stream "${name}" is missing on the broker (deleted outside Sluice?): its records are gone; recreate the stream or restore the topic.`);

/** Live stats of a stream, for teams that may read it (others get 403/404 like every read). */
export async function streamStats(principal: Principal, teamSlug: string, name: string): Promise<StreamStats> {
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const { stream } = await requireStreamAccess(team.id, name, "read");
  return measuring(`"${stream.name}"`, async () => {
    const admin = await kafkaAdmin();
    if (!(await existingTopics(admin, [stream.topic])).has(stream.topic)) throw missingTopic(stream.name);
    const reader = await PartitionReader.open(kafka());
    try {
      return { stream: stream.name, ...(await topicStats(admin, reader, stream.topic)) };
    } finally {
      await reader.close();
    }
  });
}

export const statsManyQuery = z.object({
  streams: z
    .string()
    .transform((v) => [...new Set(v.split(",").map((n) => n.trim()).filter(Boolean))])
    .pipe(z.array(streamName).min(1).max(200)),
});

/**
 * Stats of many streams at once, for the catalog: one request and one broker
 * connection per refresh instead of one per row. Streams the team may not
 * read (or that do not exist) are simply absent from the answer, so the
 * response says nothing about them — not even whether they exist.
 */
export async function streamStatsMany(principal: Principal, teamSlug: string, names: string[]): Promise<{ stats: StreamStats[] }> {
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const rows = await prisma().stream.findMany({ where: { name: { in: names } }, include: { grants: { where: { teamId: team.id } } }, orderBy: { name: "asc" } });
  const readable = rows.filter((s) => {
    const access = accessOf(s, team.id);
    return access === "owner" || access === "read";
  });
  if (!readable.length) return { stats: [] };
  return measuring("the streams", async () => {
    const admin = await kafkaAdmin();
    // A stream whose topic is missing is left out like an unreadable one; the stream page says why.
    const existing = await existingTopics(admin, readable.map((s) => s.topic));
    const reader = await PartitionReader.open(kafka());
    try {
      const stats: StreamStats[] = [];
      for (const s of readable) if (existing.has(s.topic)) stats.push({ stream: s.name, ...(await topicStats(admin, reader, s.topic)) });
      return { stats };
    } finally {
      await reader.close();
    }
  });
}
