import { describe, expect, it } from "vitest";
import { balanceMinutes, checkMinute, flowGraphOf, stagedFlowGraph, summarize, type Counts, type NodeMinuteCounts } from "./reconciliation";

const c = (p: Partial<Counts>): Counts => ({ in: 0, out: 0, filtered: 0, errored: 0, late: 0, ...p });
const linear = flowGraphOf({
  nodes: [
    { id: "src", type: "source" },
    { id: "f", type: "filter" },
    { id: "p", type: "projection" },
    { id: "out", type: "sink" },
  ],
  edges: [{ source: "src", target: "f" }, { source: "f", target: "p" }, { source: "p", target: "out" }],
});

describe("reconciliation", () => {
  it("balances a linear pipeline where every record is written, filtered or dead-lettered", () => {
    const counts = new Map([
      ["src", c({ in: 100, out: 98, errored: 2 })],
      ["f", c({ in: 98, out: 60, filtered: 38 })],
      ["p", c({ in: 60, out: 59, errored: 1 })],
      ["out", c({ in: 59, out: 59 })],
    ]);
    expect(checkMinute(linear, counts, 1)).toEqual([]);
  });

  it("names the node that lost records and by how much", () => {
    const counts = new Map([
      ["src", c({ in: 100, out: 100 })],
      ["f", c({ in: 100, out: 60, filtered: 37 })],
      ["p", c({ in: 60, out: 60 })],
      ["out", c({ in: 60, out: 60 })],
    ]);
    const problems = checkMinute(linear, counts, 1);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ nodeId: "f", kind: "node", expected: 100, actual: 97, difference: 3 });
    expect(problems[0].message).toContain('3 record(s) into "f"');
  });

  it("catches emissions that are not counted downstream (edge check), e.g. a Window's idle release", () => {
    const graph = flowGraphOf({
      nodes: [{ id: "src", type: "source" }, { id: "w", type: "window" }, { id: "out", type: "sink" }],
      edges: [{ source: "src", target: "w" }, { source: "w", target: "out" }],
    });
    // The window emitted 5 rows, the sink counted 7: two emissions were not counted at the window.
    const problems = checkMinute(graph, new Map([["src", c({ in: 50, out: 50 })], ["w", c({ in: 50, out: 5 })], ["out", c({ in: 7, out: 7 })]]), 3);
    expect(problems).toEqual([expect.objectContaining({ nodeId: "out", kind: "edge", expected: 5, actual: 7, difference: -2, version: 3 })]);
    // A window's in ≠ out is not a problem by itself: it aggregates.
    expect(checkMinute(graph, new Map([["src", c({ in: 50, out: 50 })], ["w", c({ in: 50, out: 5 })], ["out", c({ in: 5, out: 5 })]]), 3)).toEqual([]);
  });

  it("routes a Window's late records along its late port", () => {
    const graph = flowGraphOf({
      nodes: [{ id: "src", type: "source" }, { id: "w", type: "window" }, { id: "out", type: "sink" }, { id: "lateOut", type: "sink" }],
      edges: [{ source: "src", target: "w" }, { source: "w", target: "out" }, { source: "w", sourcePort: "late", target: "lateOut" }],
    });
    const counts = new Map([["src", c({ in: 10, out: 10 })], ["w", c({ in: 10, out: 2, late: 3 })], ["out", c({ in: 2, out: 2 })], ["lateOut", c({ in: 3, out: 3 })]]);
    expect(checkMinute(graph, counts, 1)).toEqual([]);
    counts.set("lateOut", c({ in: 2, out: 2 }));
    expect(checkMinute(graph, counts, 1)).toEqual([expect.objectContaining({ nodeId: "lateOut", kind: "edge", difference: 1 })]);
  });

  it("adds a Union's inputs and checks fan-out from one node to several", () => {
    const graph = flowGraphOf({
      nodes: [{ id: "a", type: "source" }, { id: "b", type: "source" }, { id: "u", type: "union" }, { id: "f1", type: "filter" }, { id: "o1", type: "sink" }, { id: "o2", type: "sink" }],
      edges: [{ source: "a", target: "u" }, { source: "b", target: "u" }, { source: "u", target: "f1" }, { source: "u", target: "o2" }, { source: "f1", target: "o1" }],
    });
    const counts = new Map([
      ["a", c({ in: 4, out: 4 })], ["b", c({ in: 6, out: 6 })], ["u", c({ in: 10, out: 10 })],
      ["f1", c({ in: 10, out: 3, filtered: 7 })], ["o1", c({ in: 3, out: 3 })], ["o2", c({ in: 10, out: 10 })],
    ]);
    expect(checkMinute(graph, counts, 1)).toEqual([]);
    counts.set("u", c({ in: 9, out: 9 }));
    expect(checkMinute(graph, counts, 1).map((p) => [p.nodeId, p.kind, p.difference])).toEqual([["u", "edge", 1], ["f1", "edge", -1], ["o2", "edge", -1]]);
  });

  it("does not check a flatMap UDF's own equation (0..n outputs per record) but checks its edges; map UDFs are one-to-one", () => {
    const graph = flowGraphOf(
      {
        nodes: [{ id: "src", type: "source" }, { id: "fm", type: "udf", config: { function: { inline: { form: "flatMap", source: "" } } } }, { id: "reg", type: "udf", config: { function: { name: "f" } } }, { id: "out", type: "sink" }],
        edges: [{ source: "src", target: "fm" }, { source: "fm", target: "reg" }, { source: "reg", target: "out" }],
      },
      new Map([["reg", "map"]]),
    );
    expect(graph.nodes.map((n) => n.kind)).toEqual(["one-to-one", "reshaping", "one-to-one", "one-to-one"]);
    const counts = new Map([["src", c({ in: 2, out: 2 })], ["fm", c({ in: 2, out: 7 })], ["reg", c({ in: 7, out: 6 })], ["out", c({ in: 6, out: 6 })]]);
    expect(checkMinute(graph, counts, 1)).toEqual([expect.objectContaining({ nodeId: "reg", kind: "node", difference: 1 })]);
  });

  it("marks minutes that are not settled yet as pending, and separates versions within a minute", () => {
    const rows: NodeMinuteCounts[] = [
      { t: 600, nodeId: "src", version: 1, ...c({ in: 5, out: 5 }) },
      { t: 600, nodeId: "out", version: 1, ...c({ in: 5, out: 5 }) },
      // Version 2 started during minute 600: its own rows balance against its own graph.
      { t: 600, nodeId: "src", version: 2, ...c({ in: 3, out: 3 }) },
      { t: 600, nodeId: "f", version: 2, ...c({ in: 3, out: 1, filtered: 2 }) },
      { t: 600, nodeId: "out", version: 2, ...c({ in: 1, out: 1 }) },
      { t: 660, nodeId: "src", version: 2, ...c({ in: 4, out: 4 }) },
      { t: 660, nodeId: "f", version: 2, ...c({ in: 4, out: 1, filtered: 2 }) },
      { t: 660, nodeId: "out", version: 2, ...c({ in: 1, out: 1 }) },
      { t: 720, nodeId: "src", version: 2, ...c({ in: 9, out: 9 }) },
    ];
    const v1 = flowGraphOf({ nodes: [{ id: "src", type: "source" }, { id: "out", type: "sink" }], edges: [{ source: "src", target: "out" }] });
    const v2 = flowGraphOf({ nodes: [{ id: "src", type: "source" }, { id: "f", type: "filter" }, { id: "out", type: "sink" }], edges: [{ source: "src", target: "f" }, { source: "f", target: "out" }] });
    const minutes = balanceMinutes(rows, (v) => (v === 1 ? v1 : v === 2 ? v2 : undefined), 720);
    expect(minutes.map((m) => [m.t, m.status, m.versions])).toEqual([[600, "balanced", [1, 2]], [660, "mismatch", [2]], [720, "pending", [2]]]);
    expect(minutes[0]).toMatchObject({ reads: 8, written: 6, filtered: 2 });
    expect(minutes[1].problems[0]).toMatchObject({ nodeId: "f", difference: 1 });
    expect(summarize(minutes)).toMatchObject({ minutes: 3, balanced: 1, mismatched: 1, pending: 1, reads: 21 });
  });

  it("checks a Window run in stages through its repartition writer and reader, and leaves the hop between stages to whole ranges", () => {
    const base = flowGraphOf({
      nodes: [{ id: "src", type: "source" }, { id: "f", type: "filter" }, { id: "w", type: "window" }, { id: "out", type: "sink" }],
      edges: [{ source: "src", target: "f" }, { source: "f", target: "w" }, { source: "w", target: "out" }],
    });
    // Main stage: src → f → w.repartition; the Window's stage: w.input → w → out (lib/compiler/stages.ts).
    const counts = new Map([
      ["src", c({ in: 10, out: 10 })], ["f", c({ in: 10, out: 8, filtered: 2 })], ["w.repartition", c({ in: 8, out: 8 })],
      // Read in this minute: 6 of this minute's 8 writes (2 in flight) plus none from before.
      ["w.input", c({ in: 6, out: 6 })], ["w", c({ in: 6, out: 1 })], ["out", c({ in: 1, out: 1 })],
    ]);
    const staged = stagedFlowGraph(base, new Set(counts.keys()));
    expect(staged.edges).toContainEqual({ source: "f", sourcePort: "out", target: "w.repartition" });
    expect(checkMinute(staged, counts, 1)).toEqual([]);
    // Without the staged graph the Window's input would not match the Filter's output.
    expect(checkMinute(base, counts, 1).map((p) => [p.nodeId, p.kind])).toEqual([["w", "edge"]]);
    // A writer that loses records, or a reader that feeds the Window less than it read, is still found.
    counts.set("w.repartition", c({ in: 8, out: 7 }));
    counts.set("w", c({ in: 5, out: 1 }));
    expect(checkMinute(staged, counts, 1).map((p) => [p.nodeId, p.kind, p.difference])).toEqual([["w.repartition", "node", 1], ["w", "edge", 1]]);
    // One stage (no synthetic nodes counted): the graph as drawn.
    expect(stagedFlowGraph(base, new Set(["src", "f", "w", "out"]))).toBe(base);
  });
});
