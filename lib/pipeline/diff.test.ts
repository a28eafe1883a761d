import { describe, expect, it } from "vitest";
import { diffPipelines, formatDiffValue, isEmptyDiff, mergedForDiff, nodeDiffKinds, summarizeDiff, type DiffableDocument } from "./diff";
import type { PipelineInput } from "./nodes";
import { parsePipeline } from "./parse";

const v1: PipelineInput = {
  version: 1,
  nodes: [
    { id: "clicks", type: "source", position: { x: 0, y: 0 }, config: { stream: "ods.clicks" } },
    { id: "paid", type: "filter", position: { x: 200, y: 0 }, config: { predicate: "amount > 10.0" } },
    { id: "shape", type: "projection", position: { x: 400, y: 0 }, config: { fields: [{ name: "user", from: "user_id" }, { name: "amount", from: "amount" }] } },
    { id: "out", type: "sink", position: { x: 600, y: 0 }, config: { stream: "dwd.paid" } },
  ],
  edges: [
    { source: "clicks", target: "paid" },
    { source: "paid", target: "shape" },
    { source: "shape", target: "out" },
  ],
};

const parsed = (p: PipelineInput) => {
  const r = parsePipeline(p);
  if (!r.pipeline) throw new Error(JSON.stringify(r.diagnostics));
  return r.pipeline;
};

describe("diffPipelines", () => {
  it("finds nothing between a version and itself moved around (positions, node order and edge defaults are ignored)", () => {
    const moved: PipelineInput = {
      ...v1,
      nodes: [...v1.nodes].reverse().map((n) => ({ ...n, position: { x: n.position!.x + 55, y: 300 } })),
      edges: v1.edges!.map((e) => ({ ...e, sourcePort: "out", targetPort: "in" })),
    };
    const d = diffPipelines(parsed(v1), parsed(moved));
    expect(isEmptyDiff(d)).toBe(true);
    expect(summarizeDiff(d)).toBe("No changes (positions are ignored)");
  });

  it("reports a changed Filter predicate with its path, before and after", () => {
    const v2 = structuredClone(v1);
    v2.nodes[1].config = { predicate: "amount > 20.0" };
    const d = diffPipelines(parsed(v1), parsed(v2));
    expect(d.changed).toEqual([{ id: "paid", type: "filter", changes: [{ path: "config.predicate", before: "amount > 10.0", after: "amount > 20.0" }] }]);
    expect(d.added).toEqual([]);
    expect(d.removed).toEqual([]);
    expect(d.addedEdges).toEqual([]);
    expect(d.removedEdges).toEqual([]);
    expect(nodeDiffKinds(d)).toEqual(new Map([["paid", "changed"]]));
    expect(summarizeDiff(d)).toBe("1 node changed");
  });

  it("reports nested and array config changes field by field, including added and removed entries", () => {
    const v2 = structuredClone(v1);
    v2.nodes[2].config = { fields: [{ name: "user", from: "user_id" }, { name: "cents", expr: "int(amount * 100.0)" }, { name: "country", from: "country" }] };
    const d = diffPipelines(v1 as DiffableDocument, v2 as DiffableDocument);
    expect(d.changed).toHaveLength(1);
    expect(d.changed[0].id).toBe("shape");
    expect(d.changed[0].changes).toEqual([
      { path: "config.fields[1].expr", before: undefined, after: "int(amount * 100.0)" },
      { path: "config.fields[1].from", before: "amount", after: undefined },
      { path: "config.fields[1].name", before: "amount", after: "cents" },
      { path: "config.fields[2]", before: undefined, after: { name: "country", from: "country" } },
    ]);
  });

  it("reports added and removed nodes and the edges that moved with them", () => {
    const v2 = structuredClone(v1);
    // Replace the projection with a split feeding two sinks.
    v2.nodes = v2.nodes.filter((n) => n.id !== "shape");
    v2.nodes.push(
      { id: "byCountry", type: "split", position: { x: 400, y: 0 }, config: { outputs: [{ name: "fr", condition: 'country == "FR"' }], unmatched: "else" } },
      { id: "rest", type: "sink", position: { x: 600, y: 100 }, config: { stream: "dwd.rest" } },
    );
    v2.edges = [
      { source: "clicks", target: "paid" },
      { source: "paid", target: "byCountry" },
      { source: "byCountry", sourcePort: "fr", target: "out" },
      { source: "byCountry", sourcePort: "else", target: "rest" },
    ];
    const d = diffPipelines(parsed(v1), parsed(v2));
    expect(d.added).toEqual([{ id: "byCountry", type: "split" }, { id: "rest", type: "sink" }]);
    expect(d.removed).toEqual([{ id: "shape", type: "projection" }]);
    expect(d.changed).toEqual([]);
    expect(d.addedEdges).toEqual([
      { source: "paid", sourcePort: "out", target: "byCountry", targetPort: "in" },
      { source: "byCountry", sourcePort: "fr", target: "out", targetPort: "in" },
      { source: "byCountry", sourcePort: "else", target: "rest", targetPort: "in" },
    ]);
    expect(d.removedEdges).toEqual([
      { source: "paid", sourcePort: "out", target: "shape", targetPort: "in" },
      { source: "shape", sourcePort: "out", target: "out", targetPort: "in" },
    ]);
    expect(summarizeDiff(d)).toBe("2 nodes added, 1 removed; 3 edges added, 2 removed");
    expect(nodeDiffKinds(d)).toEqual(new Map([["byCountry", "added"], ["rest", "added"], ["shape", "removed"]]));
  });

  it("treats a node id that now holds another operator as changed, naming both types", () => {
    const v2 = structuredClone(v1);
    v2.nodes[1] = { id: "paid", type: "udf", position: { x: 200, y: 0 }, config: { function: "enrich" } } as never;
    const d = diffPipelines(v1 as DiffableDocument, v2 as DiffableDocument);
    expect(d.changed[0]).toMatchObject({ id: "paid", type: "udf", typeBefore: "filter" });
    expect(d.changed[0].changes[0]).toEqual({ path: "type", before: "filter", after: "udf" });
    expect(d.changed[0].changes.map((c) => c.path)).toEqual(["type", "config.function", "config.predicate"]);
  });

  it("draws removed nodes and edges of the old version next to the new one", () => {
    const v2 = structuredClone(v1);
    v2.nodes = v2.nodes.filter((n) => n.id !== "shape");
    v2.edges = [{ source: "clicks", target: "paid" }, { source: "paid", target: "out" }];
    const merged = mergedForDiff(v1 as DiffableDocument, v2 as DiffableDocument);
    expect(merged.nodes.map((n) => n.id)).toEqual(["clicks", "paid", "out", "shape"]);
    expect(merged.edges!.map((e) => `${e.source}->${e.target}`).sort()).toEqual(["clicks->paid", "paid->out", "paid->shape", "shape->out"]);
  });

  it("formats values for the before → after list", () => {
    expect(formatDiffValue("a > 1")).toBe('"a > 1"');
    expect(formatDiffValue(undefined)).toBe("—");
    expect(formatDiffValue({ kind: "tumbling", size: "1m" })).toBe('{"kind":"tumbling","size":"1m"}');
  });
});
