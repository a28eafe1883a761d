"use client";

import { Background, Controls, ReactFlow, ReactFlowProvider, useReactFlow, type Edge } from "@xyflow/react";
import { useEffect, useMemo } from "react";
import { useStore } from "zustand";
import { mergedForDiff, nodeDiffKinds } from "@/lib/pipeline/diff";
import { nodeTypes } from "./pipeline-node";
import { createGraphStore, GraphStoreProvider, toFlow, type GraphStore } from "./store";
import type { DiffSelection } from "./versions-panel";

const EDGE_STYLE = {
  added: { stroke: "#10b981", strokeWidth: 2 },
  removed: { stroke: "#ef4444", strokeWidth: 2, strokeDasharray: "6 4", opacity: 0.6 },
} as const;

/**
 * Two versions drawn as one read-only graph: the newer version's nodes, plus
 * the removed ones ghosted where they were, highlighted by the same node
 * component the editor uses. It has a graph store of its own, so comparing
 * versions never touches the editor's graph, its unsaved edits or undo history.
 */
export function DiffCanvas({ selection, focus }: { selection: DiffSelection; focus?: { id: string; at: number } | null }) {
  const store: GraphStore = useMemo(() => {
    const merged = mergedForDiff(selection.before, selection.after);
    const s = createGraphStore(merged);
    const kinds = nodeDiffKinds(selection.diff);
    s.getState().setNodeDecorations(Object.fromEntries([...kinds].map(([id, diff]) => [id, { diff }])));
    const key = (e: { source: string; sourcePort?: string; target: string; targetPort?: string }) => `${e.source}:${e.sourcePort ?? "out"}>${e.target}:${e.targetPort ?? "in"}`;
    const added = new Set(selection.diff.addedEdges.map(key));
    const removed = new Set(selection.diff.removedEdges.map(key));
    const edges: Edge[] = toFlow(merged).edges.map((e, i) => {
      const k = key(merged.edges[i]);
      return added.has(k) ? { ...e, style: EDGE_STYLE.added, animated: true } : removed.has(k) ? { ...e, style: EDGE_STYLE.removed } : e;
    });
    s.setState({ edges });
    return s;
  }, [selection]);
  // Wired like the editor (measurements flow through the store) but nothing can move or connect.
  const nodes = useStore(store, (s) => s.nodes);
  const edges = useStore(store, (s) => s.edges);
  const onNodesChange = useStore(store, (s) => s.onNodesChange);
  return (
    <GraphStoreProvider store={store}>
      <ReactFlowProvider>
        <div className="h-full w-full" data-testid="diff-canvas">
          <ReactFlow
            nodes={nodes}
            edges={edges}
            onNodesChange={onNodesChange}
            nodeTypes={nodeTypes}
            nodesDraggable={false}
            nodesConnectable={false}
            elementsSelectable={false}
            fitView
            fitViewOptions={{ maxZoom: 1 }}
          >
            <Background />
            <Controls showInteractive={false} />
            <FocusNode focus={focus ?? null} />
          </ReactFlow>
          <div className="pointer-events-none absolute left-3 top-3 flex gap-3 rounded-md bg-white/90 px-2 py-1 text-[11px] text-slate-600 shadow-sm">
            <span><span className="mr-1 inline-block h-2 w-2 rounded-full bg-emerald-500" />added</span>
            <span><span className="mr-1 inline-block h-2 w-2 rounded-full bg-amber-500" />changed</span>
            <span><span className="mr-1 inline-block h-2 w-2 rounded-full bg-red-500" />removed</span>
            <span className="font-medium text-slate-800">v{selection.from} → v{selection.to} (read-only)</span>
          </div>
        </div>
      </ReactFlowProvider>
    </GraphStoreProvider>
  );
}

/** Centres the node picked in the diff list (`at` makes picking the same node again re-centre). */
function FocusNode({ focus }: { focus: { id: string; at: number } | null }) {
  const { fitView } = useReactFlow();
  useEffect(() => {
    if (focus) void fitView({ nodes: [{ id: focus.id }], duration: 300, maxZoom: 1.2 });
  }, [focus, fitView]);
  return null;
}
