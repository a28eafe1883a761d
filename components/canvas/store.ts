"use client";

import { applyEdgeChanges, applyNodeChanges, type Connection, type Edge, type EdgeChange, type NodeChange, type XYPosition } from "@xyflow/react";
import { temporal, type TemporalState } from "zundo";
import { createContext, createElement, useContext, type ReactNode } from "react";
import { createStore, useStore, type StoreApi } from "zustand";
import type { NodeType } from "@/lib/pipeline/nodes";
import { palette } from "./palette";
import type { SluiceNode } from "./pipeline-node";

/** The pipeline document the canvas loads and saves (docs/pipeline-format.md). */
export interface PipelineDoc {
  version: 1;
  nodes: { id: string; type: NodeType; config: Record<string, unknown>; position: { x: number; y: number } }[];
  edges: { id?: string; source: string; sourcePort?: string; target: string; targetPort?: string }[];
}

export interface NodeProblem {
  severity: "error" | "warning" | "info";
  message: string;
}

/**
 * Display-only data about a node that is not part of the pipeline: it never
 * enters undo history, a save, or the document sent for validation.
 */
export interface NodeDecoration {
  /** Validation messages for this node. */
  problems?: NodeProblem[];
  /** Preview: records in/out of this node so far. */
  count?: { in: number; out: number; errored: number };
  /** Version diff highlight against the version being compared. */
  diff?: "added" | "removed" | "changed";
  /** The deployed pipeline's live state of this node. */
  /** `stage`/`tasks`: the stage the node runs in and its task count, for pipelines that run in stages (keyed scale-out). */
  live?: { state: string; recordsPerSec: number; stage?: string; tasks?: number };
}
export type DecorationField = keyof NodeDecoration;

/** What a copy puts on the clipboard: nodes and the edges among them. */
export interface GraphClip {
  nodes: SluiceNode[];
  edges: Edge[];
}

/** The part of the state that undo/redo restores. */
export interface GraphSnapshot {
  nodes: SluiceNode[];
  edges: Edge[];
  /** Changes on every undoable change; equal numbers mean an equal graph. */
  graphVersion: number;
  /** Like graphVersion but ignores moves: what validation and preview care about. */
  logicVersion: number;
}

export interface GraphState extends GraphSnapshot {
  decorations: Record<string, NodeDecoration>;
  onNodesChange: (changes: NodeChange<SluiceNode>[]) => void;
  onEdgesChange: (changes: EdgeChange[]) => void;
  onConnect: (connection: Connection) => void;
  /** Adds a node of `type` with its palette defaults and makes it the only selection; returns its id. */
  addNode: (type: NodeType, position?: XYPosition) => string;
  updateConfig: (nodeId: string, config: Record<string, unknown>) => void;
  /** Removes the selected nodes and edges, and every edge touching a removed node, as one undo step. */
  deleteSelection: () => void;
  /** Selects exactly these nodes (and no edges); an empty list clears the selection. */
  selectNodes: (ids: string[]) => void;
  selectAll: () => void;
  /** The selected nodes and the edges between them, or null when nothing is selected. */
  copySelection: () => GraphClip | null;
  /** Inserts a copy with fresh ids, offset from the original, and selects it; returns the new node ids. */
  paste: (clip: GraphClip, offset?: XYPosition) => string[];
  /** Moves nodes to new positions as one undo step (auto-layout). */
  setPositions: (positions: Record<string, XYPosition>) => void;
  /**
   * Loads a pipeline document (a saved or restored version). Undoable unless
   * `resetHistory`, which the editor uses for the document it opens with.
   */
  replaceGraph: (doc: PipelineDoc | null, opts?: { resetHistory?: boolean }) => void;
  /**
   * Merges per-node decorations: each field given replaces that field on that
   * node, a field given as `undefined` removes it; other fields and nodes stay.
   */
  setNodeDecorations: (map: Record<string, Partial<NodeDecoration>>) => void;
  /** Removes one kind of decoration (e.g. every diff highlight) from all nodes. */
  clearNodeDecorations: (field: DecorationField) => void;
}

export type GraphStore = StoreApi<GraphState> & { temporal: StoreApi<TemporalState<GraphSnapshot>> };

/** Flow nodes and edges of a pipeline document. */
export function toFlow(doc: PipelineDoc | null): { nodes: SluiceNode[]; edges: Edge[] } {
  return {
    nodes: (doc?.nodes ?? []).map((n) => ({ id: n.id, type: "sluice", position: n.position, data: { type: n.type, config: n.config } })),
    edges: (doc?.edges ?? []).map((e, i) => ({
      id: e.id ?? `e${i}-${e.source}-${e.target}`,
      source: e.source,
      sourceHandle: e.sourcePort ?? "out",
      target: e.target,
      targetHandle: "in",
      data: { targetPort: e.targetPort ?? "in" },
    })),
  };
}

/** The pipeline document of the canvas graph (what is validated, previewed and saved). */
export function toDoc(nodes: SluiceNode[], edges: Edge[]): PipelineDoc {
  const types = new Map(nodes.map((n) => [n.id, n.data.type]));
  return {
    version: 1,
    nodes: nodes.map((n) => ({ id: n.id, type: n.data.type, config: n.data.config, position: { x: Math.round(n.position.x), y: Math.round(n.position.y) } })),
    edges: edges.map((e) => ({
      source: e.source,
      sourcePort: e.sourceHandle ?? "out",
      target: e.target,
      // A Union names each input after where it comes from (its optional source field shows it).
      targetPort: types.get(e.target) === "union" ? (e.sourceHandle && e.sourceHandle !== "out" ? `${e.source}-${e.sourceHandle}` : e.source) : "in",
    })),
  };
}

/** `${type}-${n}` with the smallest n not taken, so ids stay short and readable. */
function freshNodeId(type: string, taken: Set<string>): string {
  let n = 1;
  while (taken.has(`${type}-${n}`)) n++;
  return `${type}-${n}`;
}

/** Decoration values are small JSON (counts, a state and a rate, a few messages). */
function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === "object" && typeof b === "object" && a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b));
}

function edgeId(e: { source: string; sourceHandle?: string | null; target: string }): string {
  return `e-${e.source}-${e.sourceHandle ?? "out"}-${e.target}`;
}

/** History kept: enough for a working session without holding hundreds of 200-node graphs. */
const HISTORY_LIMIT = 100;
const PASTE_OFFSET = { x: 40, y: 40 };
/** Config edits of one node closer together than this are one undo step (a word typed, a slider dragged). */
const TYPING_BURST_MS = 1000;

/**
 * A canvas graph store (xyflow's zustand pattern) with undo/redo from zundo.
 *
 * Only graph changes are undo steps. Each undoable action bumps `graphVersion`,
 * and zundo's equality compares just that number, so selection, measuring,
 * decorations and drag frames cost O(1) and never enter history. A drag is one
 * step: the graph before the first drag frame is pushed when the drag ends.
 */
export function createGraphStore(initial?: PipelineDoc | null): GraphStore {
  let seq = 0;
  const next = () => ++seq;
  // The graph as it was when the current drag started (null when not dragging).
  let dragOrigin: GraphSnapshot | null = null;
  // The node whose config was last edited, and when: typing a predicate is one undo step, not one per key.
  let typing: { nodeId: string; at: number } | null = null;

  const store = createStore<GraphState>()(
    temporal(
      (set, get) => {
        const snapshot = (): GraphSnapshot => {
          const s = get();
          return { nodes: s.nodes, edges: s.edges, graphVersion: s.graphVersion, logicVersion: s.logicVersion };
        };
        /** A change to what the pipeline does (not just where its nodes sit). */
        const logic = (patch: Partial<Pick<GraphState, "nodes" | "edges">>) => {
          // Any other change ends a drag that never reported its end, and a typing burst.
          dragOrigin = null;
          typing = null;
          set({ ...patch, graphVersion: next(), logicVersion: next() });
        };

        const start = toFlow(initial ?? null);
        return {
          nodes: start.nodes,
          edges: start.edges,
          graphVersion: 0,
          logicVersion: 0,
          decorations: {},

          onNodesChange: (changes) => {
            const s = get();
            const moves = changes.filter((c) => c.type === "position");
            const dragging = moves.some((c) => c.type === "position" && c.dragging);
            const removes = changes.some((c) => c.type === "remove" || c.type === "add" || c.type === "replace");
            const nodes = applyNodeChanges(changes, s.nodes);
            if (removes) {
              // React Flow removes a node's edges in a separate edges change; drop them here so both are one step.
              const ids = new Set(nodes.map((n) => n.id));
              logic({ nodes, edges: s.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) });
            } else if (dragging) {
              if (!dragOrigin) dragOrigin = snapshot();
              // A drag frame: not a step of its own (graphVersion unchanged, so zundo records nothing).
              set({ nodes });
            } else if (moves.length) {
              const origin = dragOrigin;
              dragOrigin = null;
              if (!origin) {
                set({ nodes, graphVersion: next() }); // a keyboard nudge: one step per press
                return;
              }
              const moved = nodes.some((n) => {
                const before = origin.nodes.find((o) => o.id === n.id);
                return !before || before.position.x !== n.position.x || before.position.y !== n.position.y;
              });
              const t = store.temporal.getState();
              t.pause();
              set({ nodes, graphVersion: moved ? next() : s.graphVersion });
              t.resume();
              if (moved) {
                const past = store.temporal.getState().pastStates;
                store.temporal.setState({ pastStates: [...past, origin].slice(-HISTORY_LIMIT), futureStates: [] });
              }
            } else {
              set({ nodes });
            }
          },

          onEdgesChange: (changes) => {
            const s = get();
            // React Flow also reports the edges of removed nodes, which onNodesChange already dropped.
            changes = changes.filter((c) => c.type !== "remove" || s.edges.some((e) => e.id === c.id));
            if (!changes.length) return;
            const edges = applyEdgeChanges(changes, s.edges);
            if (changes.some((c) => c.type === "remove" || c.type === "add" || c.type === "replace")) logic({ edges });
            else set({ edges });
          },

          onConnect: (c) => {
            const s = get();
            const edge: Edge = { id: edgeId(c), source: c.source, sourceHandle: c.sourceHandle ?? "out", target: c.target, targetHandle: "in" };
            if (s.edges.some((e) => e.source === edge.source && (e.sourceHandle ?? "out") === edge.sourceHandle && e.target === edge.target)) return;
            logic({ edges: [...s.edges, edge] });
          },

          addNode: (type, position) => {
            const s = get();
            const id = freshNodeId(type, new Set(s.nodes.map((n) => n.id)));
            const node: SluiceNode = {
              id,
              type: "sluice",
              // The new node becomes the selection, so its form opens at once.
              selected: true,
              position: position ?? { x: 40 + s.nodes.length * 220, y: 120 + (s.nodes.length % 2) * 60 },
              data: { type, config: structuredClone(palette[type].defaultConfig) },
            };
            logic({ nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node], edges: s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)) });
            return id;
          },

          updateConfig: (nodeId, config) => {
            const s = get();
            const node = s.nodes.find((n) => n.id === nodeId);
            if (!node || node.data.config === config) return;
            const nodes = s.nodes.map((n) => (n.id === nodeId ? { ...n, data: { ...n.data, config } } : n));
            const now = Date.now();
            if (typing && typing.nodeId === nodeId && now - typing.at < TYPING_BURST_MS) {
              // Same burst: the step recorded at its first edit already restores the config before it.
              const t = store.temporal.getState();
              t.pause();
              set({ nodes, graphVersion: next(), logicVersion: next() });
              t.resume();
            } else {
              logic({ nodes });
            }
            typing = { nodeId, at: now };
          },

          deleteSelection: () => {
            const s = get();
            const gone = new Set(s.nodes.filter((n) => n.selected).map((n) => n.id));
            const edges = s.edges.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target));
            if (!gone.size && edges.length === s.edges.length) return;
            logic({ nodes: s.nodes.filter((n) => !gone.has(n.id)), edges });
          },

          selectNodes: (ids) => {
            const want = new Set(ids);
            const s = get();
            set({
              nodes: s.nodes.map((n) => (!!n.selected === want.has(n.id) ? n : { ...n, selected: want.has(n.id) })),
              edges: s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
            });
          },

          selectAll: () => {
            const s = get();
            set({ nodes: s.nodes.map((n) => (n.selected ? n : { ...n, selected: true })), edges: s.edges.map((e) => (e.selected ? e : { ...e, selected: true })) });
          },

          copySelection: () => {
            const s = get();
            const nodes = s.nodes.filter((n) => n.selected);
            if (!nodes.length) return null;
            const ids = new Set(nodes.map((n) => n.id));
            return {
              nodes: structuredClone(nodes.map(({ id, type, position, data }) => ({ id, type, position, data: { type: data.type, config: data.config } }))),
              edges: structuredClone(s.edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map(({ id, source, sourceHandle, target, targetHandle, data }) => ({ id, source, sourceHandle, target, targetHandle, data }))),
            };
          },

          paste: (clip, offset = PASTE_OFFSET) => {
            const s = get();
            const taken = new Set(s.nodes.map((n) => n.id));
            const renamed = new Map<string, string>();
            const added: SluiceNode[] = clip.nodes.map((n) => {
              const id = freshNodeId(n.data.type, taken);
              taken.add(id);
              renamed.set(n.id, id);
              return {
                id,
                type: "sluice",
                selected: true,
                position: { x: n.position.x + offset.x, y: n.position.y + offset.y },
                data: { type: n.data.type, config: structuredClone(n.data.config) },
              };
            });
            const edges: Edge[] = clip.edges
              .filter((e) => renamed.has(e.source) && renamed.has(e.target))
              .map((e) => {
                const source = renamed.get(e.source)!;
                const target = renamed.get(e.target)!;
                return { id: edgeId({ source, sourceHandle: e.sourceHandle, target }), source, sourceHandle: e.sourceHandle ?? "out", target, targetHandle: "in", selected: false };
              });
            if (!added.length) return [];
            logic({
              nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...added],
              edges: [...s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)), ...edges],
            });
            return added.map((n) => n.id);
          },

          setPositions: (positions) => {
            const s = get();
            set({ nodes: s.nodes.map((n) => (positions[n.id] ? { ...n, position: positions[n.id] } : n)), graphVersion: next() });
          },

          replaceGraph: (doc, opts) => {
            const flow = toFlow(doc);
            dragOrigin = null;
            typing = null;
            if (opts?.resetHistory) {
              store.temporal.getState().pause();
              set({ nodes: flow.nodes, edges: flow.edges, graphVersion: next(), logicVersion: next(), decorations: {} });
              store.temporal.getState().resume();
              store.temporal.getState().clear();
            } else {
              logic(flow);
            }
          },

          setNodeDecorations: (map) => {
            const current = get().decorations;
            let decorations: Record<string, NodeDecoration> | null = null;
            for (const [id, patch] of Object.entries(map)) {
              const before = current[id];
              let d: NodeDecoration | null = null;
              for (const [k, v] of Object.entries(patch) as [DecorationField, unknown][]) {
                // Pollers send equal values again and again; an equal value keeps the node's object, so it does not re-render.
                if (v === undefined ? !before || !(k in before) : sameValue(before?.[k], v)) continue;
                d ??= { ...before };
                if (v === undefined) delete d[k];
                else (d as Record<string, unknown>)[k] = v;
              }
              if (d) (decorations ??= { ...current })[id] = d;
            }
            if (decorations) set({ decorations });
          },

          clearNodeDecorations: (field) => {
            const decorations: Record<string, NodeDecoration> = {};
            for (const [id, d] of Object.entries(get().decorations)) {
              if (field in d) {
                const { [field]: _gone, ...rest } = d;
                decorations[id] = rest;
              } else decorations[id] = d;
            }
            set({ decorations });
          },
        };
      },
      {
        partialize: (s): GraphSnapshot => ({ nodes: s.nodes, edges: s.edges, graphVersion: s.graphVersion, logicVersion: s.logicVersion }),
        equality: (a, b) => a.graphVersion === b.graphVersion,
        limit: HISTORY_LIMIT,
      },
    ),
  ) as GraphStore;
  return store;
}

/*
 * One store per open editor, handed down by context rather than a module
 * singleton: a singleton would be shared by every request the server renders.
 */
const GraphStoreContext = createContext<GraphStore | null>(null);

export function GraphStoreProvider({ store, children }: { store: GraphStore; children: ReactNode }) {
  return createElement(GraphStoreContext.Provider, { value: store }, children);
}

/** The editor's graph store itself (for `getState()` in handlers and `.temporal` for undo/redo). */
export function useGraphApi(): GraphStore {
  const store = useContext(GraphStoreContext);
  if (!store) throw new Error("useGraph must be used inside the pipeline editor (GraphStoreProvider)");
  return store;
}

/** Subscribes to a slice of the editor's graph state; re-renders only when the slice changes. */
export function useGraph<T>(selector: (s: GraphState) => T): T {
  return useStore(useGraphApi(), selector);
}

/** Subscribes to the undo history (e.g. whether there is anything to undo). */
export function useGraphHistory<T>(selector: (s: TemporalState<GraphSnapshot>) => T): T {
  return useStore(useGraphApi().temporal, selector);
}

/** The ids of the selected nodes (a stable string, so selectors can compare it cheaply). */
export const selectedNodeIds = (s: GraphState): string => s.nodes.filter((n) => n.selected).map((n) => n.id).join("\n");
