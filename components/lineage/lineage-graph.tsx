"use client";

import "@xyflow/react/dist/style.css";
import { Background, Controls, Handle, MarkerType, Position, ReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { apiFetch } from "@/components/ui/api";
import { Badge, stateTone } from "@/components/ui/badge";
import { RecentreIcon } from "./icons";
import { layoutLineage, lineageHrefOf, MAX_DEPTH, NODE_HEIGHT, NODE_WIDTH, type LineageView, type PlacedNode } from "./layout";

type LineageNodeData = PlacedNode & { viewerTeam: string; depth: number; [key: string]: unknown };
type LineageFlowNode = Node<LineageNodeData, "lineage">;

const hidden = { opacity: 0, pointerEvents: "none" as const };

function LineageNode({ data }: NodeProps<LineageFlowNode>) {
  const own = data.team === data.viewerTeam;
  const recentre = data.isRoot ? undefined : lineageHrefOf(data, data.viewerTeam, data.depth);
  return (
    <div
      data-testid={`lineage-node-${data.id}`}
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
      className={`flex flex-col justify-center rounded-lg border bg-white px-3 text-xs shadow-sm ${data.isRoot ? "border-brand-600 ring-2 ring-brand-600/30" : "border-slate-300"} ${data.kind === "pipeline" ? "border-dashed" : ""}`}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} style={hidden} />
      <div className="flex items-center gap-1.5">
        <span className="shrink-0 text-[10px] font-semibold uppercase tracking-wide text-slate-400">{data.kind === "stream" ? "stream" : "pipeline"}</span>
        {data.href ? (
          <Link href={data.href} className="nodrag truncate font-mono text-[12px] font-medium text-slate-900 hover:text-brand-700 hover:underline" title={data.name}>{data.name}</Link>
        ) : (
          <span className="truncate font-mono text-[12px] font-medium text-slate-700" title={`${data.name} — a pipeline of team ${data.team}`}>{data.name}</span>
        )}
      </div>
      <div className="mt-1 flex items-center gap-1.5">
        {data.layer ? <Badge tone="blue">{data.layer}</Badge> : null}
        {data.state ? <Badge tone={stateTone(data.state)}>{data.state}</Badge> : null}
        <span className={`truncate ${own ? "text-slate-500" : "font-medium text-amber-800"}`} title={`owned by team ${data.team}`}>team {data.team}</span>
        {recentre ? <Link href={recentre} className="nodrag ml-auto shrink-0 text-slate-400 hover:text-brand-700" title={`Lineage of ${data.name}`} aria-label={`Lineage of ${data.name}`}><RecentreIcon /></Link> : null}
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} style={hidden} />
    </div>
  );
}

// Module scope: React Flow re-mounts every node when this object changes identity.
const nodeTypes = { lineage: LineageNode };

export type LineageRoot = { stream: string } | { pipeline: string };

/**
 * Read-only lineage around a stream or a pipeline: who produces and who
 * consumes, across teams, `depth` hops each way, as the viewing team may see
 * it. `onDepthChange` lets a page keep the depth in its URL.
 */
export function LineageGraph({ team, root, initialDepth = 2, initial, height = "28rem", onDepthChange }: { team: string; root: LineageRoot; initialDepth?: number; initial?: LineageView; height?: string; onDepthChange?: (depth: number) => void }) {
  const [depth, setDepth] = useState(Math.min(MAX_DEPTH, Math.max(1, initialDepth)));
  const [view, setView] = useState<LineageView | null>(initial ?? null);
  // The server already rendered this depth: fetch only when the depth changes.
  const [skipFirst, setSkipFirst] = useState(!!initial);
  const [error, setError] = useState<string | null>(null);
  const url = "stream" in root ? `/api/v1/teams/${team}/streams/${encodeURIComponent(root.stream)}/lineage?depth=${depth}` : `/api/v1/teams/${team}/pipelines/${encodeURIComponent(root.pipeline)}/lineage?depth=${depth}`;

  useEffect(() => {
    if (skipFirst) {
      setSkipFirst(false);
      return;
    }
    let stale = false;
    setError(null);
    apiFetch<LineageView>(url)
      .then((v) => !stale && setView(v))
      .catch((e) => !stale && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      stale = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- skipFirst only guards the first run
  }, [url]);

  const { nodes, edges } = useMemo(() => {
    if (!view) return { nodes: [] as LineageFlowNode[], edges: [] as Edge[] };
    const placed = layoutLineage(view, team);
    const running = new Set(placed.filter((n) => n.kind === "pipeline" && n.state === "running").map((n) => n.id));
    return {
      nodes: placed.map((n): LineageFlowNode => ({ id: n.id, type: "lineage", position: { x: n.x, y: n.y }, data: { ...n, viewerTeam: team, depth }, draggable: false, connectable: false, selectable: false,
        // React Flow gives nodes that are neither draggable nor selectable
        // pointer-events: none, which would make the links inside them dead.
        style: { pointerEvents: "all" } })),
      edges: view.edges.map((e): Edge => ({
        id: `${e.from}->${e.to}`,
        source: e.from,
        target: e.to,
        type: "smoothstep",
        // Records are flowing along edges into or out of a running pipeline.
        animated: running.has(e.from) || running.has(e.to),
        markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
        selectable: false,
      })),
    };
  }, [view, team, depth]);

  const producers = view ? view.edges.filter((e) => e.to === view.root).length : 0;
  const consumers = view ? view.edges.filter((e) => e.from === view.root).length : 0;
  return (
    <section className="rounded-xl border border-slate-200 bg-white" aria-label="Lineage">
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-4 py-3">
        <div>
          <h2 className="text-sm font-semibold">Lineage</h2>
          {view ? <p className="text-xs text-slate-500" data-testid="lineage-summary">{producers} producer(s), {consumers} consumer(s) directly; {view.nodes.length} node(s) within {depth} hop(s). Other teams&apos; private streams are not shown.</p> : null}
        </div>
        <label className="flex items-center gap-2 text-sm text-slate-600">
          Depth
          <select
            value={depth}
            onChange={(e) => {
              const d = Number(e.target.value);
              setDepth(d);
              onDepthChange?.(d);
            }}
            className="rounded-md border border-slate-300 px-2 py-1 text-sm"
          >
            {Array.from({ length: MAX_DEPTH }, (_, i) => i + 1).map((d) => (
              <option key={d} value={d}>{d} hop{d === 1 ? "" : "s"} up/down</option>
            ))}
          </select>
        </label>
      </div>
      {error ? <p role="alert" className="px-4 py-6 text-sm text-red-700">Could not load the lineage: {error}</p> : null}
      {!error && !view ? <p className="px-4 py-6 text-sm text-slate-500">Loading lineage…</p> : null}
      {view ? (
        // A stream nobody produces or consumes yet does not need a tall empty canvas.
        <div style={{ height: view.nodes.length > 1 ? height : "9rem" }} data-testid="lineage-graph">
          <ReactFlow
            key={`${url}`}
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            nodesDraggable={false}
            nodesConnectable={false}
            elementsSelectable={false}
            edgesFocusable={false}
            fitView
            fitViewOptions={{ padding: 0.15, maxZoom: 1 }}
            minZoom={0.2}
          >
            <Background gap={16} size={1} />
            <Controls showInteractive={false} />
          </ReactFlow>
        </div>
      ) : null}
    </section>
  );
}
