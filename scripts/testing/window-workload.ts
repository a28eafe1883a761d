import type { Kafka } from "kafkajs";
import { PartitionReader } from "@/lib/kafka/partition-reader";
import { parsePipeline, type Row, type StreamSchema } from "@/lib/pipeline";
import { compilePipeline } from "@/lib/compiler";

/**
 * The click workload of issue 17 and the in-memory reference the window
 * tests and the watermark bench compare a deployment with: a tumbling count
 * per `ad` over event time, run by the same compiled plan in one process.
 */
export const clickSchema: StreamSchema = [
  { name: "ad", type: "string" },
  { name: "ts", type: "timestamp" },
  { name: "seq", type: "int" },
  { name: "pad", type: "string", nullable: true },
];
export const countSchema: StreamSchema = [
  { name: "ad", type: "string" },
  { name: "window_start", type: "timestamp" },
  { name: "window_end", type: "timestamp" },
  { name: "n", type: "int" },
];

export type Click = {
  ad: string | null;
  ts: number;
  seq: number;
  pad?: string | null;
};

/** Source → Window (tumbling count per ad) → Sink, with the late records to a second Sink. */
export function windowCountPipeline(opts: { source: string; sink: string; lateSink: string; size: string; bound: string; idleTimeout?: string }) {
  return {
    version: 1,
    nodes: [
      { id: "src", type: "source", config: { stream: opts.source }, position: { x: 0, y: 0 } },
      {
        id: "w",
        type: "window",
        config: {
          window: { kind: "tumbling", size: opts.size },
          timeField: "ts",
          maxOutOfOrderness: opts.bound,
          ...(opts.idleTimeout ? { idleTimeout: opts.idleTimeout } : {}),
          keys: [{ name: "ad", expr: "ad" }],
          aggregates: [{ name: "n", fn: "count" }],
        },
        position: { x: 1, y: 0 },
      },
      { id: "out", type: "sink", config: { stream: opts.sink }, position: { x: 2, y: 0 } },
      { id: "late", type: "sink", config: { stream: opts.lateSink }, position: { x: 2, y: 1 } },
    ],
    edges: [
      { source: "src", target: "w" },
      { source: "w", target: "out" },
      { source: "w", sourcePort: "late", target: "late" },
    ],
  };
}

/** A deterministic pseudo-random sequence (mulberry32), so workloads are reproducible from a seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` clicks in production order: `perSecond` of them per second of event
 * time from `start`, each with uniform jitter in ±`jitterMs`, over `ads` ads.
 */
export function clicks(opts: { count: number; perSecond: number; jitterMs: number; ads: number; start: number; seed: number; firstSeq?: number; pad?: number }): Click[] {
  const rnd = random(opts.seed);
  const pad = opts.pad ? "x".repeat(opts.pad) : undefined;
  return Array.from({ length: opts.count }, (_, i) => ({
    ad: `ad-${Math.floor(rnd() * opts.ads)}`,
    ts: Math.round(opts.start + (i * 1000) / opts.perSecond + (rnd() * 2 - 1) * opts.jitterMs),
    seq: (opts.firstSeq ?? 0) + i,
    ...(pad ? { pad } : {}),
  }));
}

/** The reference: the same plan in one process over `phases` of records, each phase in the order given; `flush` closes every window at the end (a preview's sample). */
export async function reference(def: unknown, source: string, sink: string, lateSink: string, phases: Click[][], opts: { flush?: boolean; sourceSchema?: StreamSchema; countSchema?: StreamSchema } = {}): Promise<{ out: Row[]; late: Row[] }> {
  const parsed = parsePipeline(def);
  if (!parsed.pipeline) throw new Error("reference pipeline does not parse");
  const schemas = new Map([[source, opts.sourceSchema ?? clickSchema], [sink, opts.countSchema ?? countSchema], [lateSink, opts.sourceSchema ?? clickSchema]]);
  const plan = compilePipeline(parsed.pipeline, { streams: (s) => (schemas.has(s) ? { schema: schemas.get(s)! } : undefined) });
  const out: Row[] = [];
  const late: Row[] = [];
  for (const phase of phases) {
    const r = await plan.processBatch("src", phase.map((c) => ({ ...c, pad: c.pad ?? null, ad: c.ad ?? null })));
    out.push(...r.sinks.get("out")!);
    late.push(...r.sinks.get("late")!);
  }
  if (opts.flush) out.push(...(await plan.flush()).sinks.get("out")!);
  return { out, late };
}

export const byEventTime = (records: readonly Click[]) => [...records].sort((a, b) => a.ts - b.ts || a.seq - b.seq);

/** Every committed record of a topic's partitions, decoded. */
export async function readTopic(kafka: Kafka, topic: string, partitions: number): Promise<Row[]> {
  const reader = await PartitionReader.open(kafka);
  const out: Row[] = [];
  try {
    for (let p = 0; p < partitions; p++) {
      let offset = "0";
      for (;;) {
        const res = await reader.fetch(topic, p, offset, { maxBytes: 8 * 1024 * 1024 });
        for (const r of res.records) out.push(JSON.parse(r.value!.toString()) as Row);
        if (res.nextOffset === offset || BigInt(res.nextOffset) >= BigInt(res.highWatermark)) break;
        offset = res.nextOffset;
      }
    }
  } finally {
    await reader.close();
  }
  return out;
}

/** Count rows as comparable text (ad, window, n). */
export const countKey = (r: Row) => `${r.ad}|${r.window_start}|${r.window_end}|${r.n}`;
/** Late records as comparable text (they are the input records). */
export const clickKey = (r: Row) => `${r.ad}|${r.ts}|${r.seq}`;
export const multiset = (rows: readonly Row[], key: (r: Row) => string) => rows.map(key).sort();
