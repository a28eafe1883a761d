import fc from "fast-check";
import type { PipelineInput } from "../nodes";
import type { Row, StreamSchema } from "../schema";

/**
 * Random valid pipelines for property tests: one or two sources over the same
 * schema, schema-preserving operators wired as a DAG (with fan-out and
 * fan-in), and a sink on every output nobody consumes.
 */
export const RANDOM_SCHEMA: StreamSchema = [
  { name: "a", type: "int" },
  { name: "b", type: "int" },
  { name: "s", type: "string" },
];

export const randomStreams: Record<string, { schema: StreamSchema }> = {
  "ods.one": { schema: RANDOM_SCHEMA },
  "ods.two": { schema: RANDOM_SCHEMA },
};
export const randomCtx = { streams: (n: string) => randomStreams[n] };

const predicate = fc.oneof(
  fc.integer({ min: -5, max: 15 }).map((n) => `a > ${n}`),
  fc.integer({ min: 2, max: 4 }).map((n) => `b % ${n} == 0`),
  fc.constantFrom('s.startsWith("x")', 's.contains("y")', "size(s) < 3"),
  // Fails per record when b == 0: exercises error records through every path.
  fc.integer({ min: 1, max: 3 }).map((n) => `a / b > ${n}`),
);

const projectionConfig = fc.record({
  aExpr: fc.constantFrom("a", "a + 1", "a * 2", "b - a"),
  sExpr: fc.constantFrom("s", 's + "x"', "s.upperAscii()", 'string(a) + s'),
  keepOthers: fc.boolean(),
  order: fc.boolean(),
}).map(({ aExpr, sExpr, keepOthers, order }) => {
  const fields = [
    aExpr === "a" ? { name: "a", from: "a" } : { name: "a", expr: aExpr },
    sExpr === "s" ? { name: "s", from: "s" } : { name: "s", expr: sExpr },
    ...(keepOthers ? [] : [{ name: "b", from: "b" }]),
  ];
  return { fields: order ? fields : fields.reverse(), keepOthers };
});

type ProjectionConfig = typeof projectionConfig extends fc.Arbitrary<infer T> ? T : never;

type Step =
  | { kind: "filter"; input: number; predicate: string }
  | { kind: "projection"; input: number; config: ProjectionConfig }
  | { kind: "split"; input: number; conditions: string[]; mode: "first" | "all"; unmatched: "else" | "drop" }
  | { kind: "union"; inputs: [number, number] };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("filter" as const), input: fc.nat(), predicate }),
  fc.record({ kind: fc.constant("projection" as const), input: fc.nat(), config: projectionConfig }),
  fc.record({
    kind: fc.constant("split" as const),
    input: fc.nat(),
    conditions: fc.array(predicate, { minLength: 1, maxLength: 3 }),
    mode: fc.constantFrom("first" as const, "all" as const),
    unmatched: fc.constantFrom("else" as const, "drop" as const),
  }),
  fc.record({ kind: fc.constant("union" as const), inputs: fc.tuple(fc.nat(), fc.nat()) }),
);

export const randomPipeline: fc.Arbitrary<PipelineInput> = fc
  .record({ twoSources: fc.boolean(), steps: fc.array(step, { minLength: 1, maxLength: 8 }) })
  .map(({ twoSources, steps }) => {
    const nodes: PipelineInput["nodes"] = [{ id: "src1", type: "source", config: { stream: "ods.one" }, position: { x: 0, y: 0 } }];
    const edges: NonNullable<PipelineInput["edges"]> = [];
    // Every (node, port) that can feed another node.
    const outputs: { node: string; port: string }[] = [{ node: "src1", port: "out" }];
    if (twoSources) {
      nodes.push({ id: "src2", type: "source", config: { stream: "ods.two" }, position: { x: 0, y: 100 } });
      outputs.push({ node: "src2", port: "out" });
    }
    steps.forEach((s, i) => {
      const id = `n${i}`;
      const pick = (k: number) => outputs[k % outputs.length];
      if (s.kind === "union") {
        const x = pick(s.inputs[0]);
        let y = pick(s.inputs[1]);
        if (x === y) y = outputs[(outputs.indexOf(x) + 1) % outputs.length];
        if (x === y) return;
        nodes.push({ id, type: "union", config: {}, position: { x: i, y: 0 } });
        edges.push({ source: x.node, sourcePort: x.port, target: id, targetPort: "in" });
        edges.push({ source: y.node, sourcePort: y.port, target: id, targetPort: "in" });
        outputs.push({ node: id, port: "out" });
        return;
      }
      const from = pick(s.input);
      edges.push({ source: from.node, sourcePort: from.port, target: id });
      if (s.kind === "filter") {
        nodes.push({ id, type: "filter", config: { predicate: s.predicate }, position: { x: i, y: 0 } });
        outputs.push({ node: id, port: "out" });
      } else if (s.kind === "projection") {
        nodes.push({ id, type: "projection", config: s.config, position: { x: i, y: 0 } });
        outputs.push({ node: id, port: "out" });
      } else {
        const outs = s.conditions.map((c, k) => ({ name: `o${k}`, condition: c }));
        nodes.push({ id, type: "split", config: { outputs: outs, mode: s.mode, unmatched: s.unmatched }, position: { x: i, y: 0 } });
        for (const o of outs) outputs.push({ node: id, port: o.name });
        if (s.unmatched === "else") outputs.push({ node: id, port: "else" });
      }
    });
    const used = new Set(edges.map((e) => `${e.source}/${e.sourcePort}`));
    let k = 0;
    for (const o of outputs) {
      if (used.has(`${o.node}/${o.port}`)) continue;
      const id = `sink${k++}`;
      nodes.push({ id, type: "sink", config: { stream: `dwd.out${k}` }, position: { x: 99, y: k } });
      edges.push({ source: o.node, sourcePort: o.port, target: id });
    }
    return { version: 1 as const, nodes, edges };
  });

export const randomRows: fc.Arbitrary<Row[]> = fc.array(
  fc.record({ a: fc.integer({ min: -3, max: 20 }), b: fc.integer({ min: 0, max: 6 }), s: fc.constantFrom("", "x", "xy", "yy", "abc") }),
  { maxLength: 30 },
);
