import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { WatermarkMarker } from "@/lib/operators/window";
import { parsePipeline, type Pipeline, type Row, type StreamSchema } from "@/lib/pipeline";
import { keyGroupOf, ownedKeyGroups } from "./key-groups";
import { compilePipeline, type Plan } from "./plan";
import { MAIN_STAGE, repartitionSinkId, repartitionSourceId, splitStages, stageContext, type StageDefinition } from "./stages";

const clicks: StreamSchema = [
  { name: "ad", type: "string", nullable: true },
  { name: "ts", type: "timestamp" },
  { name: "seq", type: "int" },
];
const counts: StreamSchema = [
  { name: "ad", type: "string", nullable: true },
  { name: "window_start", type: "timestamp" },
  { name: "window_end", type: "timestamp" },
  { name: "n", type: "int" },
];
const streams: Record<string, StreamSchema> = { "ods.clicks": clicks, "dws.counts": counts, "dwd.late": clicks, "dwd.raw": clicks };
const ctx = { streams: (n: string) => (streams[n] ? { schema: streams[n] } : undefined) };
const internalName = (w: string) => `__sluice.p1.${w}.repartition`;

function pipelineOf(def: unknown): Pipeline {
  const r = parsePipeline(def);
  if (!r.pipeline) throw new Error(JSON.stringify(r.diagnostics));
  return r.pipeline;
}

/** Source → Filter → Window (count per ad, tumbling 10 s, bound 2 s) → Sink, late records → Sink. */
const windowDef = (extra: { idleTimeout?: string } = {}) =>
  pipelineOf({
    version: 1,
    nodes: [
      { id: "src", type: "source", config: { stream: "ods.clicks" } },
      { id: "f", type: "filter", config: { predicate: "seq >= 0" } },
      { id: "w", type: "window", config: { window: { kind: "tumbling", size: "10s" }, timeField: "ts", maxOutOfOrderness: "2s", keys: [{ name: "ad", expr: "ad" }], aggregates: [{ name: "n", fn: "count" }], ...extra } },
      { id: "out", type: "sink", config: { stream: "dws.counts" } },
      { id: "late", type: "sink", config: { stream: "dwd.late" } },
    ],
    edges: [
      { source: "src", target: "f" },
      { source: "f", target: "w" },
      { source: "w", target: "out" },
      { source: "w", sourcePort: "late", target: "late" },
    ],
  });

describe("splitStages", () => {
  it("cuts in front of the Window: main writes its repartition stream, the Window's stage reads it", () => {
    const { stages, diagnostics } = splitStages(windowDef(), ctx, { streamName: internalName });
    expect(diagnostics).toEqual([]);
    expect(stages.map((s) => s.id)).toEqual([MAIN_STAGE, "w"]);
    const [main, w] = stages;
    expect(main.pipeline.nodes.map((n) => n.id)).toEqual(["src", "f", repartitionSinkId("w")]);
    expect(main.pipeline.edges.map((e) => `${e.source}->${e.target}`)).toEqual(["src->f", "f->w.repartition"]);
    expect([...main.repartitions.values()].map((r) => r.stream)).toEqual([internalName("w")]);
    expect(w.pipeline.nodes.map((n) => n.id)).toEqual([repartitionSourceId("w"), "w", "out", "late"]);
    expect(w.input?.schema).toEqual(clicks);
    // Each stage validates on its own with the repartition stream's schema.
    for (const s of stages) expect(() => compilePipeline(s.pipeline, stageContext(ctx, stages))).not.toThrow();
  });

  it("leaves a pipeline without a Window as one stage", () => {
    const p = pipelineOf({ version: 1, nodes: [{ id: "s", type: "source", config: { stream: "ods.clicks" } }, { id: "o", type: "sink", config: { stream: "dwd.raw" } }], edges: [{ source: "s", target: "o" }] });
    expect(splitStages(p, ctx, { streamName: internalName }).stages).toEqual([{ id: MAIN_STAGE, pipeline: p, repartitions: new Map() }]);
  });

  it("refuses a node that merges records before and after a Window, naming it", () => {
    const p = pipelineOf({
      version: 1,
      nodes: [
        { id: "src", type: "source", config: { stream: "ods.clicks" } },
        { id: "w", type: "window", config: { window: { kind: "tumbling", size: "10s" }, timeField: "ts", keys: [{ name: "ad", expr: "ad" }], aggregates: [{ name: "n", fn: "count" }] } },
        { id: "raw", type: "projection", config: { fields: [{ name: "ad", from: "ad" }] } },
        { id: "cnt", type: "projection", config: { fields: [{ name: "ad", from: "ad" }] } },
        { id: "u", type: "union", config: {} },
        { id: "o", type: "sink", config: { stream: "dwd.raw" } },
      ],
      edges: [
        { source: "src", target: "w" },
        { source: "src", target: "raw" },
        { source: "w", target: "cnt" },
        { source: "raw", target: "u", targetPort: "a" },
        { source: "cnt", target: "u", targetPort: "b" },
        { source: "u", target: "o" },
      ],
    });
    const r = splitStages(p, { streams: (n: string) => (n === "dwd.raw" ? { schema: [{ name: "ad", type: "string", nullable: true }] as StreamSchema } : ctx.streams(n)) }, { streamName: internalName });
    expect(r.diagnostics).toMatchObject([{ code: "stage-merge", nodeId: "u" }]);
    expect(r.stages.map((s) => s.id)).toEqual([MAIN_STAGE]);
  });
});

/**
 * The staged plan in memory against the one-process reference: upstream
 * tasks read source partitions (p mod N1), write the repartition stream
 * (partition = key group) and watermark markers; downstream tasks own key
 * groups (q mod N2), process their partitions in random order, commit state
 * per key group, and are rescaled and crashed at random moments, restoring
 * their key groups from the changelog and resuming from committed positions.
 */
interface Click {
  ad: string | null;
  ts: number;
  seq: number;
}
type Entry = { kind: "row"; row: Row } | { kind: "marker"; marker: WatermarkMarker };
const KEY_GROUPS = 8;

function runStaged(def: Pipeline, sources: Click[][], schedule: { upstream: number; downstream: readonly number[]; steps: number[]; crashes: number[] }) {
  const { stages } = splitStages(def, ctx, { streamName: internalName });
  const sctx = stageContext(ctx, stages);
  const main = stages[0];
  const wStage = stages.find((s) => s.id === "w")! as StageDefinition;
  const sinkId = repartitionSinkId("w");
  const repartition = main.repartitions.get(sinkId)!;
  const topic: Entry[][] = Array.from({ length: KEY_GROUPS }, () => []);
  let now = 1_000_000;

  // Upstream: N1 tasks, each its own plan over the source partitions it owns.
  const n1 = schedule.upstream;
  const upstream = Array.from({ length: n1 }, (_, t) => {
    let current: string | undefined;
    const plan = compilePipeline(main.pipeline, sctx, { partitionOf: () => current, repartitions: new Map([[sinkId, { config: repartition.config, partitions: KEY_GROUPS }]]) });
    const owned = sources.map((_, p) => p).filter((p) => p % n1 === t);
    plan.assignPartitions(new Map([["ods.clicks", owned.map(String)]]), now);
    return { t, plan, owned, pos: new Map(owned.map((p) => [p, 0])), setPartition: (p: number) => (current = String(p)) };
  });
  const writeMarkers = (u: (typeof upstream)[number]) => {
    const m = u.plan.drainMarkers(now).get(sinkId);
    if (m) for (const q of topic) q.push({ kind: "marker", marker: { generation: 1, task: u.t, tasks: n1, watermark: m.watermark, idle: m.idle } });
  };
  const upstreamStep = async (u: (typeof upstream)[number], pick: number, partition?: number) => {
    if (!u.owned.length) return;
    const p = partition ?? u.owned[pick % u.owned.length];
    const list = sources[p];
    const from = u.pos.get(p)!;
    const batch = list.slice(from, from + 1 + (pick % 7));
    if (batch.length) {
      u.setPartition(p);
      const r = await u.plan.processBatch("src", batch.map((c) => ({ ...c })), { now });
      const rows = r.sinks.get(sinkId)!;
      const parts = r.sinkPartitions!.get(sinkId)!;
      rows.forEach((row, i) => topic[parts[i]].push({ kind: "row", row }));
      u.pos.set(p, from + batch.length);
    } else {
      // A source check: every owned partition read to its end is caught up.
      const check = u.plan.beginSourceCheck(now);
      const caughtUp = new Set(u.owned.filter((q) => u.pos.get(q)! >= sources[q].length).map(String));
      await u.plan.advanceTime(now, { source: { check, caughtUp } });
    }
    writeMarkers(u);
  };

  // Downstream: tasks owning key groups; committed state per key group, committed read positions.
  const changelog = new Map<number, Map<string, unknown[]>[]>(Array.from({ length: KEY_GROUPS }, (_, q) => [q, []]));
  const committedPos = new Array<number>(KEY_GROUPS).fill(0);
  const out: Row[] = [];
  const late: Row[] = [];
  type Down = { plan: Plan; groups: number[]; pos: Map<number, number>; pending: { out: Row[]; late: Row[] } };
  const startDownstream = (n2: number): Down[] =>
    Array.from({ length: n2 }, (_, t) => {
      const plan = compilePipeline(wStage.pipeline, sctx, { keyGroups: true });
      const groups = ownedKeyGroups(KEY_GROUPS, t, n2);
      plan.assignKeyGroups(groups);
      for (const q of groups) {
        // The changelog as a log: every committed drain, in order (restoreFromChanges keeps the latest per key).
        const byNode = new Map<string, unknown[]>();
        for (const drain of changelog.get(q)!) for (const [node, changes] of drain) byNode.set(node, [...(byNode.get(node) ?? []), ...changes]);
        plan.restoreKeyGroup(q, byNode);
      }
      return { plan, groups, pos: new Map(groups.map((q) => [q, committedPos[q]])), pending: { out: [], late: [] } };
    });
  const commit = (d: Down) => {
    for (const [q, byNode] of d.plan.drainKeyGroupChanges()) changelog.get(q)!.push(byNode);
    for (const q of d.groups) committedPos[q] = d.pos.get(q)!;
    out.push(...d.pending.out);
    late.push(...d.pending.late);
    d.pending = { out: [], late: [] };
  };
  const downstreamStep = async (d: Down, pick: number, group?: number) => {
    if (!d.groups.length) return;
    const q = group ?? d.groups[pick % d.groups.length];
    const from = d.pos.get(q)!;
    const entries = topic[q].slice(from, from + 1 + (pick % 5));
    let rows: Row[] = [];
    const flushRows = async () => {
      if (!rows.length) return;
      const r = await d.plan.processBatch(repartitionSourceId("w"), rows, { keyGroup: q, now });
      d.pending.out.push(...r.sinks.get("out")!);
      d.pending.late.push(...r.sinks.get("late")!);
      rows = [];
    };
    for (const e of entries) {
      if (e.kind === "row") rows.push(JSON.parse(JSON.stringify(e.row)) as Row);
      else {
        await flushRows();
        const r = await d.plan.upstreamWatermark(q, e.marker, now);
        d.pending.out.push(...r.sinks.get("out")!);
        d.pending.late.push(...r.sinks.get("late")!);
      }
    }
    await flushRows();
    d.pos.set(q, from + entries.length);
    commit(d);
  };

  return (async () => {
    let phase = 0;
    let down = startDownstream(schedule.downstream[0]);
    for (let i = 0; i < schedule.steps.length; i++) {
      now += 7;
      const s = schedule.steps[i];
      if (s % 2 === 0) await upstreamStep(upstream[(s >> 1) % n1], s >> 3);
      else await downstreamStep(down[(s >> 1) % down.length], s >> 3);
      if (schedule.crashes.includes(i)) {
        // Crash: nothing uncommitted survives; the tasks restore from the changelog.
        down = startDownstream(down.length);
      }
      if (i > 0 && i % Math.max(1, Math.floor(schedule.steps.length / schedule.downstream.length)) === 0 && phase + 1 < schedule.downstream.length) {
        // Rescale: every task stops at a committed point, the new task set restores the key groups it owns.
        phase++;
        down = startDownstream(schedule.downstream[phase]);
      }
    }
    // Drain: every source read, checks until every upstream partition is idle, every repartition partition read.
    for (const u of upstream) for (const p of u.owned) while (u.pos.get(p)! < sources[p].length) await upstreamStep(u, 6, p);
    now += 60_000;
    for (const u of upstream) {
      const check = u.plan.beginSourceCheck(now);
      await u.plan.advanceTime(now, { source: { check, caughtUp: new Set(u.owned.map(String)) } });
      writeMarkers(u);
    }
    for (const d of down) for (const q of d.groups) while (d.pos.get(q)! < topic[q].length) await downstreamStep(d, 4, q);
    return { out, late };
  })();
}

describe("a staged Window in memory equals the one-process reference (property)", () => {
  const clickArb = fc
    .record({
      partitions: fc.integer({ min: 1, max: 4 }),
      records: fc.array(fc.record({ p: fc.nat(3), step: fc.integer({ min: 0, max: 700 }), jitter: fc.integer({ min: -1_000, max: 1_000 }), ad: fc.constantFrom("a", "b", "c", "d", "e", null) }), { minLength: 1, maxLength: 150 }),
    })
    .map(({ partitions, records }) => {
      let base = 100_000;
      const sources: Click[][] = Array.from({ length: partitions }, () => []);
      records.forEach((r, seq) => {
        base += r.step;
        sources[r.p % partitions].push({ ad: r.ad, ts: base + r.jitter, seq });
      });
      // One closing record per partition, far ahead: every window of the workload closes.
      sources.forEach((s, p) => s.push({ ad: "closer", ts: base + 100_000, seq: 1_000_000 + p }));
      return sources;
    });
  const scheduleArb = fc.record({
    upstream: fc.integer({ min: 1, max: 3 }),
    downstream: fc.constantFrom([1], [2], [3], [1, 3, 2], [3, 1]),
    steps: fc.array(fc.nat(255), { maxLength: 200 }),
    crashes: fc.array(fc.nat(200), { maxLength: 3 }),
  });

  it("at 1, 2 or 3 downstream tasks, across rescales (1 → 3 → 2) and crashes: same window rows, no late records, null keys in their own group", async () => {
    await fc.assert(
      fc.asyncProperty(clickArb, scheduleArb, async (sources, schedule) => {
        const def = windowDef();
        const staged = await runStaged(def, sources, schedule);
        // The reference: the same pipeline in one process over every record in event-time order.
        const ref = compilePipeline(def, ctx);
        const all = sources.flat().sort((a, b) => a.ts - b.ts || a.seq - b.seq);
        const r = await ref.processBatch("src", all.map((c) => ({ ...c })));
        const key = (x: Row) => JSON.stringify([x.ad, x.window_start, x.n]);
        const expected = r.sinks.get("out")!.map(key).sort();
        expect(staged.late).toEqual([]);
        expect(staged.out.map(key).sort()).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });
});

describe("key groups", () => {
  it("a null key is its own key group: every record with it lands in one partition", () => {
    const { stages } = splitStages(windowDef(), ctx, { streamName: internalName });
    const main = stages[0];
    const plan = compilePipeline(main.pipeline, stageContext(ctx, stages), { repartitions: new Map([[repartitionSinkId("w"), { config: main.repartitions.get(repartitionSinkId("w"))!.config, partitions: 32 }]]) });
    return plan.processBatch("src", [{ ad: null, ts: 1, seq: 1 }, { ad: "x", ts: 2, seq: 2 }, { ad: null, ts: 3, seq: 3 }]).then((r) => {
      const keys = r.sinkKeys!.get(repartitionSinkId("w"))!;
      const parts = r.sinkPartitions!.get(repartitionSinkId("w"))!;
      expect(keys[0]).toBe(keys[2]);
      expect(parts[0]).toBe(parts[2]);
      expect(parts[1]).toBe(keyGroupOf(keys[1], 32));
      expect(keys[0]).not.toBe(keys[1]);
    });
  });
});
