import { afterEach, describe, expect, it, vi } from "vitest";
import { createGraphStore, toDoc, type PipelineDoc } from "./store";
import { sourceFilterSink as doc } from "./test-pipeline";

const ids = (s: ReturnType<typeof createGraphStore>) => s.getState().nodes.map((n) => n.id);
const undo = (s: ReturnType<typeof createGraphStore>) => s.temporal.getState().undo();
const redo = (s: ReturnType<typeof createGraphStore>) => s.temporal.getState().redo();

afterEach(() => {
  vi.useRealTimers();
});

describe("graph store", () => {
  it("round-trips a pipeline document", () => {
    const s = createGraphStore(doc);
    expect(toDoc(s.getState().nodes, s.getState().edges)).toEqual(doc);
  });

  it("undoes and redoes adding a node, a config change and a connection", () => {
    const s = createGraphStore(doc);
    const id = s.getState().addNode("projection", { x: 10, y: 10 });
    expect(id).toBe("projection-1");
    s.getState().updateConfig("filter-1", { predicate: "amount > 2.0" });
    s.getState().onConnect({ source: "filter-1", sourceHandle: "out", target: "projection-1", targetHandle: "in" });
    expect(s.getState().edges).toHaveLength(3);

    undo(s);
    expect(s.getState().edges).toHaveLength(2);
    undo(s);
    expect(s.getState().nodes.find((n) => n.id === "filter-1")!.data.config).toEqual({ predicate: "amount > 1.0" });
    undo(s);
    expect(ids(s)).toEqual(["source-1", "filter-1", "sink-1"]);
    expect(s.temporal.getState().pastStates).toHaveLength(0);

    redo(s);
    redo(s);
    expect(ids(s)).toContain("projection-1");
    expect(s.getState().nodes.find((n) => n.id === "filter-1")!.data.config).toEqual({ predicate: "amount > 2.0" });
  });

  it("records a burst of config edits on one node as one step", () => {
    vi.useFakeTimers();
    const s = createGraphStore(doc);
    for (const predicate of ["a", "am", "amount", "amount > 1", "amount > 10.0"]) {
      s.getState().updateConfig("filter-1", { predicate });
      vi.advanceTimersByTime(200);
    }
    // A pause, then another edit: a second step.
    vi.advanceTimersByTime(1500);
    s.getState().updateConfig("filter-1", { predicate: "amount > 20.0" });
    // Another node is another step even within the burst window.
    s.getState().updateConfig("sink-1", { stream: "dwd.other" });
    const logicBefore = s.getState().logicVersion;
    expect(s.temporal.getState().pastStates).toHaveLength(3);
    undo(s);
    expect(s.getState().logicVersion).not.toBe(logicBefore);
    expect(s.getState().nodes[2].data.config).toEqual({ stream: "dwd.big" });
    undo(s);
    expect(s.getState().nodes[1].data.config).toEqual({ predicate: "amount > 10.0" });
    undo(s);
    expect(s.getState().nodes[1].data.config).toEqual({ predicate: "amount > 1.0" });
    redo(s);
    expect(s.getState().nodes[1].data.config).toEqual({ predicate: "amount > 10.0" });
  });

  it("does not record selection, measuring or decorations as undo steps", () => {
    const s = createGraphStore(doc);
    s.getState().selectNodes(["filter-1"]);
    s.getState().onNodesChange([{ id: "sink-1", type: "select", selected: true }]);
    s.getState().onNodesChange([{ id: "sink-1", type: "dimensions", dimensions: { width: 180, height: 60 } }]);
    s.getState().setNodeDecorations({ "filter-1": { count: { in: 3, out: 2, errored: 0 } } });
    s.getState().onEdgesChange([{ id: s.getState().edges[0].id, type: "select", selected: true }]);
    expect(s.temporal.getState().pastStates).toHaveLength(0);
  });

  it("records a whole drag as one step that restores the position before the drag", () => {
    const s = createGraphStore(doc);
    for (const x of [210, 230, 260, 300]) s.getState().onNodesChange([{ id: "filter-1", type: "position", position: { x, y: 5 }, dragging: true }]);
    expect(s.temporal.getState().pastStates).toHaveLength(0);
    s.getState().onNodesChange([{ id: "filter-1", type: "position", position: { x: 300, y: 5 }, dragging: false }]);
    expect(s.temporal.getState().pastStates).toHaveLength(1);
    expect(s.getState().nodes[1].position).toEqual({ x: 300, y: 5 });
    undo(s);
    expect(s.getState().nodes[1].position).toEqual({ x: 200, y: 0 });
    redo(s);
    expect(s.getState().nodes[1].position).toEqual({ x: 300, y: 5 });
  });

  it("moves do not change the logic version (validation ignores positions)", () => {
    const s = createGraphStore(doc);
    const before = s.getState().logicVersion;
    s.getState().onNodesChange([{ id: "filter-1", type: "position", position: { x: 1, y: 1 }, dragging: false }]);
    expect(s.getState().logicVersion).toBe(before);
    expect(s.getState().graphVersion).not.toBe(0);
    s.getState().updateConfig("filter-1", { predicate: "true" });
    expect(s.getState().logicVersion).not.toBe(before);
  });

  it("deletes the selection and the edges touching it as one step", () => {
    const s = createGraphStore(doc);
    s.getState().selectNodes(["filter-1"]);
    s.getState().deleteSelection();
    expect(ids(s)).toEqual(["source-1", "sink-1"]);
    expect(s.getState().edges).toHaveLength(0);
    undo(s);
    expect(ids(s)).toEqual(["source-1", "filter-1", "sink-1"]);
    expect(s.getState().edges).toHaveLength(2);
  });

  it("pastes a copy with fresh ids, the edges among the copied nodes only, offset and selected", () => {
    const s = createGraphStore(doc);
    s.getState().selectNodes(["filter-1", "sink-1"]);
    const clip = s.getState().copySelection()!;
    expect(clip.nodes.map((n) => n.id)).toEqual(["filter-1", "sink-1"]);
    expect(clip.edges).toHaveLength(1); // source-1 → filter-1 is not among the copied nodes

    const pasted = s.getState().paste(clip);
    expect(pasted).toEqual(["filter-2", "sink-2"]);
    const again = s.getState().paste(clip);
    expect(again).toEqual(["filter-3", "sink-3"]);
    const state = s.getState();
    expect(new Set(state.nodes.map((n) => n.id)).size).toBe(state.nodes.length);
    expect(new Set(state.edges.map((e) => e.id)).size).toBe(state.edges.length);
    expect(state.edges.filter((e) => e.source === "filter-3")).toEqual([expect.objectContaining({ target: "sink-3" })]);
    expect(state.nodes.find((n) => n.id === "filter-2")!.position).toEqual({ x: 240, y: 40 });
    expect(state.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(["filter-3", "sink-3"]);
    // The copy's config is its own: editing it leaves the original alone.
    s.getState().updateConfig("filter-2", { predicate: "false" });
    expect(s.getState().nodes.find((n) => n.id === "filter-1")!.data.config).toEqual({ predicate: "amount > 1.0" });

    undo(s);
    undo(s);
    expect(ids(s)).toEqual(["source-1", "filter-1", "sink-1", "filter-2", "sink-2"]);
  });

  it("replaceGraph loads a document as an undoable step, or as a fresh history", () => {
    const s = createGraphStore(doc);
    s.getState().addNode("union");
    const restored: PipelineDoc = { version: 1, nodes: [doc.nodes[0]], edges: [] };
    s.getState().replaceGraph(restored);
    expect(ids(s)).toEqual(["source-1"]);
    expect(toDoc(s.getState().nodes, s.getState().edges)).toEqual(restored);
    undo(s);
    expect(ids(s)).toEqual(["source-1", "filter-1", "sink-1", "union-1"]);

    s.getState().setNodeDecorations({ "source-1": { diff: "changed" } });
    s.getState().replaceGraph(doc, { resetHistory: true });
    expect(ids(s)).toEqual(["source-1", "filter-1", "sink-1"]);
    expect(s.temporal.getState().pastStates).toHaveLength(0);
    expect(s.getState().decorations).toEqual({});
  });

  it("merges decorations per field and clears one kind at a time", () => {
    const s = createGraphStore(doc);
    s.getState().setNodeDecorations({ "filter-1": { count: { in: 3, out: 1, errored: 0 } }, "sink-1": { diff: "added" } });
    s.getState().setNodeDecorations({ "filter-1": { live: { state: "running", recordsPerSec: 12 } } });
    const sinkBefore = s.getState().decorations["sink-1"];
    expect(s.getState().decorations["filter-1"]).toEqual({ count: { in: 3, out: 1, errored: 0 }, live: { state: "running", recordsPerSec: 12 } });
    s.getState().setNodeDecorations({ "filter-1": { count: undefined } });
    expect(s.getState().decorations["filter-1"]).toEqual({ live: { state: "running", recordsPerSec: 12 } });
    // Untouched nodes keep the same object, so their components do not re-render.
    expect(s.getState().decorations["sink-1"]).toBe(sinkBefore);
    s.getState().clearNodeDecorations("diff");
    expect(s.getState().decorations["sink-1"]).toEqual({});
  });

  it("keeps decoration objects when a poller sends equal values, so nodes do not re-render", () => {
    const s = createGraphStore(doc);
    s.getState().setNodeDecorations({ "filter-1": { live: { state: "running", recordsPerSec: 5 } }, "sink-1": { live: { state: "running", recordsPerSec: 5 } } });
    const before = s.getState().decorations;
    s.getState().setNodeDecorations({ "filter-1": { live: { state: "running", recordsPerSec: 5 } }, "sink-1": { live: { state: "running", recordsPerSec: 5 } }, "source-1": { diff: undefined } });
    expect(s.getState().decorations).toBe(before);
    s.getState().setNodeDecorations({ "filter-1": { live: { state: "running", recordsPerSec: 6 } }, "sink-1": { live: { state: "running", recordsPerSec: 5 } } });
    expect(s.getState().decorations).not.toBe(before);
    expect(s.getState().decorations["filter-1"].live).toEqual({ state: "running", recordsPerSec: 6 });
    expect(s.getState().decorations["sink-1"]).toBe(before["sink-1"]);
  });

  it("does not add an edge that already exists (same ports)", () => {
    const s = createGraphStore(doc);
    s.getState().onConnect({ source: "source-1", sourceHandle: "out", target: "filter-1", targetHandle: "in" });
    expect(s.getState().edges.filter((e) => e.source === "source-1" && e.target === "filter-1")).toHaveLength(1);
    expect(s.temporal.getState().pastStates).toHaveLength(0);
  });
});
