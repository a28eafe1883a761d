import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { NodeCounts, RecordError } from "@/lib/operators/types";
import { zeroCounts } from "@/lib/operators/types";
import { analyzePipeline } from "./analyze";
import { compilePipeline, PipelineCompileError } from "./plan";
import { parsePipeline } from "@/lib/pipeline/parse";
import type { Pipeline, PipelineInput } from "@/lib/pipeline/nodes";
import type { Row, StreamSchema } from "@/lib/pipeline/schema";
import { randomCtx, randomPipeline, randomRows } from "@/lib/pipeline/testing/random-pipeline";

const clicks: StreamSchema = [
  { name: "user", type: "string" },
  { name: "country", type: "string" },
  { name: "amount", type: "float" },
];
const streams: Record<string, { schema: StreamSchema }> = { "ods.clicks": { schema: clicks }, "ods.views": { schema: clicks.slice(0, 2) } };
const ctx = { streams: (n: string) => streams[n] };

function pipeline(input: PipelineInput): Pipeline {
  const r = parsePipeline(input);
  if (!r.pipeline) throw new Error(JSON.stringify(r.diagnostics));
  return r.pipeline;
}

const sample: Row[] = [
  { user: "a", country: "US", amount: 20 },
  { user: "b", country: "FR", amount: 30 },
  { user: "c", country: "FR", amount: 3 },
  { user: "d", country: "US", amount: "oops" },
];

const routing = pipeline({
  version: 1,
  nodes: [
    { id: "clicks", type: "source", config: { stream: "ods.clicks" } },
    { id: "views", type: "source", config: { stream: "ods.views" } },
    { id: "big", type: "filter", config: { predicate: "amount > 10.0" } },
    { id: "shape", type: "projection", config: { fields: [{ name: "user", from: "user" }, { name: "country", expr: "country.lowerAscii()" }] } },
    { id: "route", type: "split", config: { outputs: [{ name: "us", condition: 'country == "us"' }], unmatched: "else" } },
    { id: "all", type: "union", config: { sourceField: "origin" } },
    { id: "usSink", type: "sink", config: { stream: "dwd.us" } },
    { id: "allSink", type: "sink", config: { stream: "dwd.all" } },
  ],
  edges: [
    { source: "clicks", target: "big" },
    { source: "big", target: "shape" },
    { source: "shape", target: "route" },
    { source: "route", sourcePort: "us", target: "usSink" },
    { source: "route", sourcePort: "else", target: "all", targetPort: "rest" },
    { source: "views", target: "all", targetPort: "views" },
    { source: "all", target: "allSink" },
  ],
});

describe("compilePipeline", () => {
  it("fuses the Filter → Projection chain into one step", () => {
    const plan = compilePipeline(routing, ctx);
    expect(plan.steps).toContainEqual({ kind: "chain", nodes: ["big", "shape"] });
    expect(compilePipeline(routing, ctx, { fuse: false }).steps).toContainEqual({ kind: "filter", nodes: ["big"] });
  });

  it("runs records through split fan-out and union fan-in, tracing metas and counting per node", async () => {
    const plan = compilePipeline(routing, ctx);
    const r = await plan.processBatch("ods.clicks", sample, { metas: ["o0", "o1", "o2", "o3"] });
    expect(r.sinks.get("usSink")).toEqual([{ user: "a", country: "us" }]);
    expect(r.sinkMetas.get("usSink")).toEqual(["o0"]);
    expect(r.sinks.get("allSink")).toEqual([{ user: "b", country: "fr", origin: "rest" }]);
    expect(r.sinkMetas.get("allSink")).toEqual(["o1"]);
    expect(r.errors).toEqual([{ nodeId: "big", reason: 'field "amount" should be float but is string', record: sample[3], meta: "o3" }]);
    expect(r.perNode.get("clicks")).toEqual({ in: 4, out: 4, filtered: 0, errored: 0 });
    expect(r.perNode.get("big")).toEqual({ in: 4, out: 2, filtered: 1, errored: 1 });
    expect(r.perNode.get("shape")).toEqual({ in: 2, out: 2, filtered: 0, errored: 0 });
    expect(r.perNode.get("route")).toEqual({ in: 2, out: 2, filtered: 0, errored: 0 });
    expect(r.perNode.get("views")).toEqual(zeroCounts());
  });

  it("addresses a source by node id as well as by stream name", async () => {
    const plan = compilePipeline(routing, ctx);
    const r = await plan.processBatch("views", [{ user: "v", country: "DE" }]);
    expect(r.sinks.get("allSink")).toEqual([{ user: "v", country: "DE", origin: "views" }]);
    await expect(plan.processBatch("ods.nope", [])).rejects.toThrow(/no source node or stream named "ods.nope"/);
  });

  it("captures every node's output per port for the preview", async () => {
    const plan = compilePipeline(routing, ctx);
    const r = await plan.processBatch("clicks", sample, { capture: true });
    expect(r.outputs!.get("big")!.get("out")!.map((x) => x.user)).toEqual(["a", "b"]);
    expect(r.outputs!.get("shape")!.get("out")).toEqual([{ user: "a", country: "us" }, { user: "b", country: "fr" }]);
    expect(r.outputs!.get("route")!.get("us")).toEqual([{ user: "a", country: "us" }]);
    expect(r.outputs!.get("route")!.get("else")).toEqual([{ user: "b", country: "fr" }]);
    expect(r.outputs!.get("allSink")!.get("out")).toEqual([{ user: "b", country: "fr", origin: "rest" }]);
  });

  it("decodes bytes once at the source and encodes once at the sink; bad bytes become source errors", async () => {
    const plan = compilePipeline(routing, ctx);
    const enc = new TextEncoder();
    const r = await plan.processEncoded("ods.clicks", [enc.encode(JSON.stringify(sample[0])), enc.encode("{nope"), enc.encode("[1]"), null, new Uint8Array([0xff, 0xfe])], { metas: [0, 1, 2, 3, 4] });
    expect(r.encoded.get("usSink")!.map((b) => new TextDecoder().decode(b))).toEqual(['{"user":"a","country":"us"}']);
    expect(r.errors.map((e) => [e.nodeId, e.meta, e.reason.split(":")[0]])).toEqual([
      ["clicks", 1, "record value is not valid JSON"],
      ["clicks", 2, "record value is not a JSON object"],
      ["clicks", 3, "record has no value (tombstone)"],
      ["clicks", 4, "record value is not valid UTF-8"],
    ]);
    expect(r.perNode.get("clicks")).toEqual({ in: 5, out: 1, filtered: 0, errored: 4 });
  });

  it("feeds one output to several consumers without fusing across the fan-out", async () => {
    const p = pipeline({
      version: 1,
      nodes: [
        { id: "s", type: "source", config: { stream: "ods.clicks" } },
        { id: "f", type: "filter", config: { predicate: "amount > 10.0" } },
        { id: "p1", type: "projection", config: { fields: [{ name: "user", from: "user" }] } },
        { id: "p2", type: "projection", config: { fields: [{ name: "country", from: "country" }] } },
        { id: "k1", type: "sink", config: { stream: "x.1" } },
        { id: "k2", type: "sink", config: { stream: "x.2" } },
      ],
      edges: [
        { source: "s", target: "f" },
        { source: "f", target: "p1" },
        { source: "f", target: "p2" },
        { source: "p1", target: "k1" },
        { source: "p2", target: "k2" },
      ],
    });
    const plan = compilePipeline(p, ctx);
    expect(plan.steps.filter((s) => s.kind === "chain").map((s) => s.nodes)).toEqual([["f"], ["p1"], ["p2"]]);
    const r = await plan.processBatch("s", sample.slice(0, 3));
    expect(r.sinks.get("k1")).toEqual([{ user: "a" }, { user: "b" }]);
    expect(r.sinks.get("k2")).toEqual([{ country: "US" }, { country: "FR" }]);
  });

  it("handles a batch of 200k records that all fail, without overflowing the stack", async () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => ({ user: `u${i}`, country: "US", amount: "bad" }));
    for (const fuse of [true, false]) {
      const r = await compilePipeline(routing, ctx, { fuse }).processBatch("clicks", rows);
      expect(r.errors).toHaveLength(200_000);
      expect(r.perNode.get("big")).toEqual({ in: 200_000, out: 0, filtered: 0, errored: 200_000 });
    }
  });

  it("compiles an unfinished graph (no sink yet) for the preview with `partial`, and nothing else", async () => {
    const unfinished = pipeline({
      version: 1,
      nodes: [
        { id: "s", type: "source", config: { stream: "ods.clicks" } },
        { id: "f", type: "filter", config: { predicate: "amount > 10.0" } },
      ],
      edges: [{ source: "s", target: "f" }],
    });
    expect(() => compilePipeline(unfinished, ctx)).toThrow(PipelineCompileError);
    const r = await compilePipeline(unfinished, ctx, { partial: true }).processBatch("s", sample.slice(0, 3), { capture: true });
    expect(r.outputs!.get("f")!.get("out")!.map((x) => x.user)).toEqual(["a", "b"]);
    const broken = pipeline({ ...unfinished, nodes: [unfinished.nodes[0], { id: "f", type: "filter", config: { predicate: "nope" } }] });
    expect(() => compilePipeline(broken, ctx, { partial: true })).toThrow(PipelineCompileError);
  });

  it("refuses to compile a pipeline with errors, listing them", () => {
    const bad = pipeline({ version: 1, nodes: [{ id: "s", type: "source", config: { stream: "ods.clicks" } }, { id: "k", type: "sink", config: { stream: "x" } }], edges: [] });
    expect(() => compilePipeline(bad, ctx)).toThrow(PipelineCompileError);
    try {
      compilePipeline(bad, ctx);
    } catch (e) {
      expect((e as PipelineCompileError).diagnostics.map((d) => d.code)).toContain("unreachable-sink");
    }
  });
});

/**
 * Reference semantics: push each record through the graph one node at a time,
 * depth first, with no batching, no fusion and no shared buffers.
 */
function interpretRecordByRecord(p: Pipeline, rows: Row[]) {
  const a = analyzePipeline(p, randomCtx);
  const counts = new Map<string, NodeCounts>([...a.nodes.keys()].map((id) => [id, zeroCounts()]));
  const sinks = new Map<string, { row: Row; meta: unknown }[]>();
  const errors: RecordError[] = [];
  const emit = (from: string, port: string, row: Row, meta: unknown) => {
    for (const e of a.outgoing.get(from)!) if (e.sourcePort === port) visit(e.target, e.targetPort, e.source, row, meta);
  };
  const visit = (id: string, _inPort: string, _from: string, row: Row, meta: unknown): void => {
    const op = a.ops.get(id)!;
    const c = counts.get(id)!;
    c.in++;
    try {
      switch (op.kind) {
        case "sink":
          c.out++;
          sinks.set(id, [...(sinks.get(id) ?? []), { row, meta }]);
          return;
        case "filter":
          if (!op.test(row)) {
            c.filtered++;
            return;
          }
          c.out++;
          return emit(id, "out", row, meta);
        case "projection": {
          const out = op.project(row);
          c.out++;
          return emit(id, "out", out, meta);
        }
        case "split": {
          const ports = op.route(row);
          if (ports.length === 0) c.filtered++;
          c.out += ports.length;
          for (const i of ports) emit(id, op.ports[i], row, meta);
          return;
        }
        case "union":
          c.out++;
          return emit(id, "out", row, meta);
        default:
          throw new Error(`unexpected ${op.kind}`);
      }
    } catch (e) {
      c.errored++;
      errors.push({ nodeId: id, reason: (e as Error).message, record: row, meta });
    }
  };
  rows.forEach((row, i) => {
    for (const [id, n] of a.nodes) {
      if (n.type !== "source" || n.config.stream !== "ods.one") continue;
      counts.get(id)!.in++;
      counts.get(id)!.out++;
      emit(id, "out", row, i);
    }
  });
  return { counts, sinks, errors };
}

const multiset = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort();

describe("compiled plan equals record-by-record interpretation (property)", () => {
  it("gives the same sink records, errors and per-node counts", async () => {
    await fc.assert(
      fc.asyncProperty(randomPipeline, randomRows, async (input, rows) => {
        const p = pipeline(input);
        const reference = interpretRecordByRecord(p, rows);
        const metas = rows.map((_, i) => i);
        const fused = await compilePipeline(p, randomCtx).processBatch("ods.one", rows, { metas });
        const unfused = await compilePipeline(p, randomCtx, { fuse: false }).processBatch("ods.one", rows, { metas });
        for (const result of [fused, unfused]) {
          for (const [id, c] of reference.counts) expect(result.perNode.get(id), id).toEqual(c);
          for (const [id, sinkRows] of result.sinks) {
            const got = sinkRows.map((row, i) => ({ row, meta: result.sinkMetas.get(id)![i] }));
            expect(multiset(got), id).toEqual(multiset(reference.sinks.get(id) ?? []));
          }
          expect(multiset(result.errors)).toEqual(multiset(reference.errors));
        }
        // Fusion changes nothing observable, not even the order records reach each sink.
        expect(fused.sinks).toEqual(unfused.sinks);
        expect(fused.sinkMetas).toEqual(unfused.sinkMetas);
      }),
      { numRuns: 300 },
    );
  });

  it("captures the same per-node outputs with and without fusion", async () => {
    await fc.assert(
      fc.asyncProperty(randomPipeline, randomRows, async (input, rows) => {
        const p = pipeline(input);
        const fused = await compilePipeline(p, randomCtx).processBatch("ods.one", rows, { capture: true });
        const unfused = await compilePipeline(p, randomCtx, { fuse: false }).processBatch("ods.one", rows, { capture: true });
        expect(fused.outputs).toEqual(unfused.outputs);
      }),
      { numRuns: 150 },
    );
  });
});

/** Puts a processing-time Window (count and sum per `s`) in front of the first sink of a random pipeline. */
function withWindow(input: PipelineInput): PipelineInput {
  const sink = input.nodes.find((n) => n.type === "sink")!;
  const edges = (input.edges ?? []).map((e) => (e.target === sink.id ? { ...e, target: "win", targetPort: "in" } : e));
  edges.push({ source: "win", target: sink.id });
  return {
    ...input,
    nodes: [
      ...input.nodes,
      {
        id: "win",
        type: "window",
        config: { window: { kind: "tumbling", size: "1m" }, keys: [{ name: "s", expr: "s" }], aggregates: [{ name: "n", fn: "count" }, { name: "total", fn: "sum", field: "a" }] },
      },
    ],
    edges,
  };
}

describe("plans with a Window (property)", () => {
  it("aggregate the same records with and without fusion, and match a direct count", async () => {
    await fc.assert(
      fc.asyncProperty(randomPipeline, randomRows, async (input, rows) => {
        const p = pipeline(withWindow(input));
        const sinkId = p.edges.find((e) => e.source === "win")!.target;
        const results = [];
        for (const fuse of [true, false]) {
          const plan = compilePipeline(p, randomCtx, { fuse });
          const run = await plan.processBatch("ods.one", rows, { now: 0 });
          const flushed = await plan.flush();
          results.push({ inWindow: run.perNode.get("win")!.in, out: multiset([...run.sinks.get(sinkId)!, ...flushed.sinks.get(sinkId)!]) });
        }
        expect(results[0]).toEqual(results[1]);
        // What reached the window, counted directly from the record-by-record reference.
        const reference = interpretRecordByRecord(pipeline(input), rows);
        const originalSink = input.nodes.find((n) => n.type === "sink")!.id;
        const reached = reference.sinks.get(originalSink) ?? [];
        expect(results[0].inWindow).toBe(reached.length);
        const expected = new Map<string, { n: number; total: number }>();
        for (const { row } of reached) {
          const g = expected.get(row.s as string) ?? { n: 0, total: 0 };
          g.n++;
          g.total += row.a as number;
          expected.set(row.s as string, g);
        }
        const got = results[0].out.map((x) => JSON.parse(x) as { s: string; n: number; total: number });
        expect(new Map(got.map((g) => [g.s, { n: g.n, total: g.total }]))).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });
});
