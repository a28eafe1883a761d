import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePipeline } from "@/lib/pipeline/parse";
import { acceptsInputPort, outputPorts } from "@/lib/pipeline/ports";
import { validatePipeline } from "./validate";
import { randomCtx, randomPipeline } from "@/lib/pipeline/testing/random-pipeline";
import type { PipelineInput } from "@/lib/pipeline/nodes";

/**
 * Cycles through every node type. Start from a random valid pipeline, give it
 * a Window and a UDF (the generator's operators are stateless), then add
 * random extra edges between any nodes and ports: some close cycles (through
 * a Union, a Split port, a Window's `late` port…), some are refused for their
 * ports. Validation must never throw (the canonical hash threw on a cycle
 * through a Union and the API answered 500), must name a cycle exactly when
 * the graph has one (a naive reachability check is the reference), and hashes
 * only a graph without errors.
 */
const extraEdge = fc.record({ from: fc.nat(), to: fc.nat(), port: fc.nat(), targetPort: fc.constantFrom("in", "in", "other") });

const withStatefulNodes = (p: PipelineInput): PipelineInput => ({
  ...p,
  nodes: [
    ...p.nodes,
    { id: "w", type: "window", config: { window: { kind: "tumbling", size: "1m" }, keys: [{ name: "k", expr: "s" }], aggregates: [{ name: "n", fn: "count" }] }, position: { x: 0, y: 0 } },
    { id: "w-out", type: "sink", config: { stream: "dws.counts" }, position: { x: 0, y: 0 } },
    { id: "u", type: "udf", config: { function: { inline: { source: "(r) => r", form: "map" } } }, position: { x: 0, y: 0 } },
    { id: "u-out", type: "sink", config: { stream: "dwd.udf" }, position: { x: 0, y: 0 } },
  ],
  edges: [...(p.edges ?? []), { source: "src1", target: "w" }, { source: "w", target: "w-out" }, { source: "src1", target: "u" }, { source: "u", target: "u-out" }],
});

/** Whether a node can reach itself over the edges validation accepts: the reference for "is on a cycle". */
function nodesOnCycles(p: ReturnType<typeof parsePipeline>["pipeline"] & object): Set<string> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const next = new Map<string, string[]>(p.nodes.map((n) => [n.id, []]));
  const seen = new Set<string>();
  for (const e of p.edges) {
    const from = byId.get(e.source);
    const to = byId.get(e.target);
    if (!from || !to || !outputPorts(from).includes(e.sourcePort) || !acceptsInputPort(to, e.targetPort)) continue;
    const key = `${e.source}/${e.sourcePort}/${e.target}/${e.targetPort}`;
    if (seen.has(key)) continue;
    seen.add(key);
    next.get(e.source)!.push(e.target);
  }
  const out = new Set<string>();
  for (const start of byId.keys()) {
    const stack = [...next.get(start)!];
    const visited = new Set<string>();
    while (stack.length) {
      const id = stack.pop()!;
      if (id === start) {
        out.add(start);
        break;
      }
      if (visited.has(id)) continue;
      visited.add(id);
      stack.push(...next.get(id)!);
    }
  }
  return out;
}

describe("cycles through every node type (property)", () => {
  it("are reported as `cycle` on exactly the nodes on them, never thrown, and never hashed", () => {
    const types = new Set<string>();
    fc.assert(
      fc.property(randomPipeline, fc.array(extraEdge, { minLength: 1, maxLength: 4 }), (base, extra) => {
        const input = withStatefulNodes(base);
        const nodes = input.nodes;
        for (const x of extra) {
          const from = nodes[x.from % nodes.length];
          const to = nodes[x.to % nodes.length];
          const parsedFrom = parsePipeline({ ...input, edges: [] }).pipeline!.nodes.find((n) => n.id === from.id)!;
          const ports = outputPorts(parsedFrom);
          input.edges!.push({ source: from.id, sourcePort: ports.length ? ports[x.port % ports.length] : "out", target: to.id, targetPort: to.type === "union" ? `in${x.port}` : x.targetPort });
        }
        const parsed = parsePipeline(input);
        expect(parsed.diagnostics).toBeUndefined();
        const pipeline = parsed.pipeline!;
        const result = validatePipeline(pipeline, randomCtx);
        const expected = nodesOnCycles(pipeline);
        const reported = new Set(result.diagnostics.filter((d) => d.code === "cycle" && d.nodeId).map((d) => d.nodeId!));
        expect(reported).toEqual(expected);
        for (const id of expected) types.add(pipeline.nodes.find((n) => n.id === id)!.type);
        const errors = result.diagnostics.some((d) => d.severity === "error");
        expect(result.logicHashes === undefined).toBe(errors);
        if (result.logicHashes) expect(Object.keys(result.logicHashes).sort()).toEqual(pipeline.nodes.map((n) => n.id).sort());
      }),
      { numRuns: 500 },
    );
    // The runs did put every type that can be on a cycle on one (Sources have no inputs, Sinks no outputs).
    expect([...types].sort()).toEqual(["filter", "projection", "split", "udf", "union", "window"]);
  });

  it("a cycle through a Union is a `cycle` diagnostic, as a cycle of two filters is", () => {
    const node = (id: string, type: string, config: unknown) => ({ id, type, config, position: { x: 0, y: 0 } });
    const graph = {
      version: 1,
      nodes: [node("s", "source", { stream: "ods.one" }), node("u", "union", {}), node("f", "filter", { predicate: "a > 1" }), node("k", "sink", { stream: "dwd.k" })],
      edges: [{ source: "s", target: "u" }, { source: "f", target: "u" }, { source: "u", target: "f" }, { source: "f", target: "k" }],
    };
    const result = validatePipeline(parsePipeline(graph).pipeline!, randomCtx);
    expect(result.diagnostics.filter((d) => d.code === "cycle").map((d) => [d.nodeId, d.message])).toEqual([
      ["u", "this node is part of a cycle (u, f); pipelines must be acyclic"],
      ["f", "this node is part of a cycle (u, f); pipelines must be acyclic"],
    ]);
    expect(result.logicHashes).toBeUndefined();
  });
});
