import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePipeline, PipelineCompileError } from "./plan";
import { parsePipeline } from "@/lib/pipeline/parse";
import { validatePipeline } from "./validate";
import { randomCtx } from "@/lib/pipeline/testing/random-pipeline";

/**
 * Whatever the canvas sends — cycles, dangling edges, unknown streams, broken
 * expressions, wrong ports — parse and validate answer with diagnostics and
 * never throw; compile either yields a plan or a PipelineCompileError.
 */
const ids = ["s1", "s2", "a", "b", "c", "d", "k1", "k2"];
const expr = fc.constantFrom("a > 1", "b % 2 == 0", "nope > 1", "a +", "s.matches('(')", "true", "1 / 0", 's.startsWith("x")', "size(s)");
const node = fc.oneof(
  fc.record({ type: fc.constant("source"), config: fc.record({ stream: fc.constantFrom("ods.one", "ods.two", "ods.none") }) }),
  fc.record({ type: fc.constant("sink"), config: fc.record({ stream: fc.constantFrom("dwd.x", "ods.one") }) }),
  fc.record({ type: fc.constant("filter"), config: fc.record({ predicate: expr }) }),
  fc.record({
    type: fc.constant("projection"),
    config: fc.record({
      fields: fc.array(fc.oneof(fc.record({ name: fc.constantFrom("a", "b", "z"), from: fc.constantFrom("a", "s", "q") }), fc.record({ name: fc.constantFrom("a", "y"), expr })), { maxLength: 3 }),
      keepOthers: fc.boolean(),
      drop: fc.constantFrom([], ["b"], ["nope"]),
      flatten: fc.constantFrom([], [{ field: "a" }]),
    }),
  }),
  fc.record({
    type: fc.constant("split"),
    config: fc.record({ outputs: fc.array(fc.record({ name: fc.constantFrom("x", "y"), condition: expr }), { minLength: 1, maxLength: 2 }), mode: fc.constantFrom("first", "all"), unmatched: fc.constantFrom("else", "drop") }),
  }),
  fc.record({ type: fc.constant("union"), config: fc.constantFrom({}, { sourceField: "src" }, { sourceField: "a" }) }),
  fc.record({ type: fc.constant("window"), config: fc.record({ window: fc.constant({ kind: "tumbling", size: "1m" }), keys: fc.constantFrom([], [{ name: "k", expr: "s" }], [{ name: "k", expr: "nope" }]), aggregates: fc.constantFrom([{ name: "n", fn: "count" }], [{ name: "t", fn: "sum", field: "s" }]) }) }),
  fc.constant({ type: "teleport", config: {} }),
  fc.constant({ type: "filter", config: { predicate: 42 } }),
);
const graph = fc.record({
  nodes: fc.uniqueArray(fc.tuple(fc.constantFrom(...ids), node), { selector: ([id]) => id, maxLength: 8 }),
  edges: fc.array(
    fc.record({ source: fc.constantFrom(...ids, "ghost"), target: fc.constantFrom(...ids), sourcePort: fc.constantFrom("out", "x", "y", "else", "late"), targetPort: fc.constantFrom("in", "in", "left", "right") }),
    { maxLength: 12 },
  ),
  version: fc.constantFrom(1, 1, 1, 2),
});

describe("validation robustness (property)", () => {
  it("never throws on arbitrary graphs and configs", () => {
    fc.assert(
      fc.property(graph, (g) => {
        const input = { version: g.version, nodes: g.nodes.map(([id, n]) => ({ id, ...n })), edges: g.edges };
        const parsed = parsePipeline(input);
        if (!parsed.pipeline) {
          expect(parsed.diagnostics.length).toBeGreaterThan(0);
          return;
        }
        const { diagnostics, schemas } = validatePipeline(parsed.pipeline, randomCtx);
        for (const d of diagnostics) expect(["error", "warning", "info"]).toContain(d.severity);
        const hasError = diagnostics.some((d) => d.severity === "error");
        try {
          const plan = compilePipeline(parsed.pipeline, randomCtx);
          expect(hasError).toBe(false);
          expect(Object.keys(plan.schemas).sort()).toEqual(Object.keys(schemas).sort());
        } catch (e) {
          expect(e).toBeInstanceOf(PipelineCompileError);
          expect(hasError).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });
});
