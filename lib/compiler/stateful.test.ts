import { afterAll, describe, expect, it } from "vitest";
import { liveIsolates } from "@/lib/udf";
import type { PipelineInput, WindowNodeConfigInput } from "@/lib/pipeline/nodes";
import { compilePipeline, type Plan } from "./plan";
import { parsePipeline } from "@/lib/pipeline/parse";
import type { Row, StreamSchema } from "@/lib/pipeline/schema";
import { validatePipeline } from "./validate";

const events: StreamSchema = [
  { name: "user", type: "string" },
  { name: "amount", type: "int" },
  { name: "ts", type: "timestamp" },
];
const ctx = {
  streams: (n: string) => (n === "ods.events" ? { schema: events } : undefined),
  functions: (name: string, version?: number) =>
    name === "double_amount" && (version === undefined || version === 2)
      ? { name, version: 2, form: "map" as const, source: "(r) => ({ user: r.user, amount: r.amount * 2 })" }
      : undefined,
  functionNames: () => ["double_amount"],
};

const pipelineWith = (middle: PipelineInput["nodes"][number]): PipelineInput => ({
  version: 1,
  nodes: [{ id: "src", type: "source", config: { stream: "ods.events" } }, middle, { id: "out", type: "sink", config: { stream: "dws.out" } }],
  edges: [
    { source: "src", target: middle.id },
    { source: middle.id, target: "out" },
  ],
});
const parse = (input: PipelineInput) => {
  const r = parsePipeline(input);
  if (!r.pipeline) throw new Error(JSON.stringify(r.diagnostics));
  return r.pipeline;
};

const minute = 60_000;
const t0 = Date.UTC(2024, 0, 1, 12, 0);
const windowNode = (extra: Record<string, unknown> = {}): PipelineInput["nodes"][number] => ({
  id: "w",
  type: "window",
  config: {
    window: { kind: "tumbling", size: "1m" },
    timeField: "ts",
    keys: [{ name: "user", expr: "user" }],
    aggregates: [
      { name: "n", fn: "count" },
      { name: "total", fn: "sum", field: "amount" },
    ],
    ...extra,
  } as WindowNodeConfigInput,
});

const rowsA: Row[] = [
  { user: "a", amount: 1, ts: t0 + 1000 },
  { user: "b", amount: 5, ts: t0 + 2000 },
  { user: "a", amount: 2, ts: t0 + 59_999 },
];
const rowsB: Row[] = [
  { user: "a", amount: 10, ts: t0 + minute + 5 }, // closes minute 0
  { user: "b", amount: 1, ts: t0 + 10 }, // late: minute 0 already closed, no allowed lateness
];
const byUser = (rows: Row[]) => [...rows].sort((x, y) => String(x.user).localeCompare(String(y.user)));

describe("Window nodes in a plan", () => {
  it("validates with core-2's schema: keys, window bounds, aggregates", () => {
    const r = validatePipeline(parse(pipelineWith(windowNode())), ctx);
    expect(r.diagnostics).toEqual([]);
    expect(r.schemas.w.map((f) => [f.name, f.type])).toEqual([
      ["user", "string"],
      ["window_start", "timestamp"],
      ["window_end", "timestamp"],
      ["n", "int"],
      ["total", "int"],
    ]);
  });

  it("reports window diagnostics on the node with config paths", () => {
    const ds = validatePipeline(parse(pipelineWith(windowNode({ timeField: undefined, keys: [{ name: "user", expr: "usr" }] }))), ctx).diagnostics;
    expect(ds).toContainEqual(expect.objectContaining({ nodeId: "w", severity: "warning", code: "processing-time", path: "config.timeField" }));
    expect(ds).toContainEqual(expect.objectContaining({ nodeId: "w", severity: "error", code: "unknown-field", path: "config.keys[0].expr", message: expect.stringMatching(/did you mean "user"/) }));
  });

  it("emits closed windows downstream, sends late records to the late port with their metas, and flushes", async () => {
    const input = pipelineWith(windowNode());
    input.nodes.push({ id: "lateSink", type: "sink", config: { stream: "dws.late" } });
    input.edges!.push({ source: "w", sourcePort: "late", target: "lateSink" });
    const plan = compilePipeline(parse(input), ctx);
    const first = await plan.processBatch("src", rowsA, { metas: ["m0", "m1", "m2"] });
    expect(first.sinks.get("out")).toEqual([]);
    const second = await plan.processBatch("src", rowsB, { metas: ["m3", "m4"] });
    expect(byUser(second.sinks.get("out")!)).toEqual([
      { user: "a", window_start: t0, window_end: t0 + minute, n: 2, total: 3 },
      { user: "b", window_start: t0, window_end: t0 + minute, n: 1, total: 5 },
    ]);
    expect(second.sinks.get("lateSink")).toEqual([rowsB[1]]);
    expect(second.sinkMetas.get("lateSink")).toEqual(["m4"]);
    expect(second.perNode.get("w")).toMatchObject({ in: 2, out: 2, late: 1 });
    const flushed = await plan.flush();
    expect(flushed.sinks.get("out")).toEqual([{ user: "a", window_start: t0 + minute, window_end: t0 + 2 * minute, n: 1, total: 10 }]);
  });

  it("restores from a snapshot mid-stream to the same output as an uninterrupted run", async () => {
    const p = parse(pipelineWith(windowNode()));
    const collect = async (plans: Plan[]) => {
      const out: Row[] = [];
      out.push(...(await plans[0].processBatch("src", rowsA)).sinks.get("out")!);
      const second = plans[1] ?? plans[0];
      if (plans[1]) plans[1].restore(JSON.parse(JSON.stringify(plans[0].snapshot())));
      out.push(...(await second.processBatch("src", rowsB)).sinks.get("out")!);
      out.push(...(await second.flush()).sinks.get("out")!);
      return byUser(out);
    };
    const straight = await collect([compilePipeline(p, ctx)]);
    const restored = await collect([compilePipeline(p, ctx), compilePipeline(p, ctx)]);
    expect(restored).toEqual(straight);
    expect(straight).toHaveLength(3);
  });

  it("rebuilds state from drained changes", async () => {
    const p = parse(pipelineWith(windowNode()));
    const a = compilePipeline(p, ctx);
    await a.processBatch("src", rowsA);
    const changes = a.drainChanges();
    expect(changes.get("w")!.length).toBeGreaterThan(0);
    const b = compilePipeline(p, ctx);
    b.restoreFromChanges(changes);
    expect(byUser((await b.flush()).sinks.get("out")!)).toEqual(byUser((await a.flush()).sinks.get("out")!));
  });

  it("closes processing-time windows on advanceTime", async () => {
    const plan = compilePipeline(parse(pipelineWith(windowNode({ timeField: undefined }))), ctx);
    await plan.processBatch("src", rowsA, { now: t0 + 100 });
    const r = await plan.advanceTime(t0 + 2 * minute);
    expect(byUser(r.sinks.get("out")!).map((x) => [x.user, x.n])).toEqual([
      ["a", 2],
      ["b", 1],
    ]);
  });
});

describe("UDF nodes in a plan", () => {
  const plans: Plan[] = [];
  const compile = (node: PipelineInput["nodes"][number]) => {
    const plan = compilePipeline(parse(pipelineWith(node)), ctx);
    plans.push(plan);
    return plan;
  };
  afterAll(async () => {
    for (const p of plans) p.dispose();
    await new Promise((r) => setTimeout(r, 50));
    expect(liveIsolates()).toBe(0);
  });

  it("maps records in the sandbox, keeping metas and turning throws into error records", async () => {
    const plan = compile({
      id: "u",
      type: "udf",
      config: {
        function: { inline: { form: "map", source: "(r) => { if (r.amount < 0) throw new Error('negative'); return { user: r.user.toUpperCase(), amount: r.amount + 1 }; }" } },
        outputSchema: [{ name: "user", type: "string" }, { name: "amount", type: "int" }],
      },
    });
    const r = await plan.processBatch("src", [{ user: "a", amount: 1, ts: 0 }, { user: "b", amount: -1, ts: 0 }, { user: "c", amount: 2, ts: 0 }], { metas: [0, 1, 2] });
    expect(r.sinks.get("out")).toEqual([{ user: "A", amount: 2 }, { user: "C", amount: 3 }]);
    expect(r.sinkMetas.get("out")).toEqual([0, 2]);
    expect(r.errors).toMatchObject([{ nodeId: "u", meta: 1, reason: expect.stringContaining("negative") }]);
    expect(r.perNode.get("u")).toEqual({ in: 3, out: 2, filtered: 0, errored: 1 });
    expect(plan.schemas.u).toEqual([{ name: "user", type: "string" }, { name: "amount", type: "int" }]);
  });

  it("filters records and counts the dropped ones", async () => {
    const plan = compile({ id: "u", type: "udf", config: { function: { inline: { form: "filter", source: "(r) => r.amount > 1" } } } });
    const r = await plan.processBatch("src", rowsA);
    expect(r.sinks.get("out")).toEqual([rowsA[1], rowsA[2]]);
    expect(r.perNode.get("u")).toEqual({ in: 3, out: 2, filtered: 1, errored: 0 });
  });

  it("resolves registry references through ctx.functions, with did-you-mean for unknown ones", async () => {
    const plan = compile({ id: "u", type: "udf", config: { function: { name: "double_amount" }, outputSchema: [{ name: "user", type: "string" }, { name: "amount", type: "int" }] } });
    expect((await plan.processBatch("src", [rowsA[1]])).sinks.get("out")).toEqual([{ user: "b", amount: 10 }]);
    const ds = validatePipeline(parse(pipelineWith({ id: "u", type: "udf", config: { function: { name: "double_amout" } } })), ctx).diagnostics;
    expect(ds).toContainEqual(expect.objectContaining({ nodeId: "u", code: "unknown-function", path: "config.function.name", message: expect.stringMatching(/did you mean "double_amount"/) }));
  });

  it("warns when a map UDF does not declare its output schema", () => {
    const ds = validatePipeline(parse(pipelineWith({ id: "u", type: "udf", config: { function: { inline: { form: "map", source: "(r) => r" } } } })), ctx).diagnostics;
    expect(ds).toMatchObject([{ nodeId: "u", code: "udf-output-schema", severity: "warning" }]);
  });

  it("reports source that does not compile on the node, and refuses to compile the plan", () => {
    const node = { id: "u", type: "udf" as const, config: { function: { inline: { form: "map" as const, source: "(r) => {" } }, outputSchema: [{ name: "user", type: "string" as const }] } };
    const r = validatePipeline(parse(pipelineWith(node)), ctx);
    expect(r.diagnostics).toContainEqual(expect.objectContaining({ nodeId: "u", code: "udf-compile", path: "config.function.inline.source" }));
    expect(() => compile(node)).toThrow(/error/);
  });
});

describe("overlapping calls on a plan with a UDF", () => {
  it("are queued, so advanceTime cannot overtake a batch still in the UDF", async () => {
    const input: PipelineInput = {
      version: 1,
      nodes: [
        { id: "src", type: "source", config: { stream: "ods.events" } },
        { id: "u", type: "udf", config: { function: { inline: { form: "filter", source: "(r) => true" } } } },
        {
          id: "w",
          type: "window",
          config: { window: { kind: "tumbling", size: "1m" }, aggregates: [{ name: "n", fn: "count" }] } as WindowNodeConfigInput,
        },
        { id: "out", type: "sink", config: { stream: "dws.out" } },
      ],
      edges: [
        { source: "src", target: "u" },
        { source: "u", target: "w" },
        { source: "w", target: "out" },
      ],
    };
    const plan = compilePipeline(parse(input), ctx);
    try {
      // Processing-time window: the batch belongs to [t0, t0 + 1m); advancing to t0 + 2m must close it with the batch in it.
      const [first, advanced] = await Promise.all([plan.processBatch("src", rowsA, { now: t0 }), plan.advanceTime(t0 + 2 * minute)]);
      expect(first.sinks.get("out")).toEqual([]);
      expect(advanced.sinks.get("out")).toEqual([{ window_start: t0, window_end: t0 + minute, n: 3 }]);
    } finally {
      plan.dispose();
    }
  });
});
