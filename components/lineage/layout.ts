import dagre from "@dagrejs/dagre";

/** The JSON of GET …/lineage (lib/warehouse/lineage.ts). */
export interface LineageNodeView {
  id: string;
  kind: "stream" | "pipeline";
  name: string;
  team: string;
  layer?: string;
  state?: string;
}
export interface LineageView {
  root: string;
  nodes: LineageNodeView[];
  edges: { from: string; to: string }[];
}

/** The API allows up to 10 hops each way. */
export const MAX_DEPTH = 10;

export const NODE_WIDTH = 240;
export const NODE_HEIGHT = 64;

export interface PlacedNode extends LineageNodeView {
  x: number;
  y: number;
  /** Where the node's page is, for the viewing team; undefined when it may not open it (another team's pipeline). */
  href?: string;
  isRoot: boolean;
}

/**
 * Data flows left to right: producers on the left of a stream, consumers on
 * its right, whatever the root. Positions are top-left corners (React Flow's).
 */
export function layoutLineage(view: LineageView, viewerTeam: string): PlacedNode[] {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 72, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of view.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const e of view.edges) g.setEdge(e.from, e.to);
  dagre.layout(g);
  return view.nodes.map((n) => {
    const p = g.node(n.id);
    return { ...n, x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2, href: hrefOf(n, viewerTeam), isRoot: n.id === view.root };
  });
}

/**
 * Streams in the graph are ones the team may see (the API leaves out other
 * teams' private streams), so each links to its page; pipelines link only
 * within the viewer's own team — other teams' editors are not open to it.
 */
export function hrefOf(n: Pick<LineageNodeView, "kind" | "name" | "team">, viewerTeam: string): string | undefined {
  if (n.kind === "stream") return `/t/${viewerTeam}/streams/${encodeURIComponent(n.name)}`;
  return n.team === viewerTeam ? `/t/${viewerTeam}/pipelines/${encodeURIComponent(n.name)}` : undefined;
}

/** The lineage page of a node, to re-centre the graph on it. */
export function lineageHrefOf(n: Pick<LineageNodeView, "kind" | "name" | "team">, viewerTeam: string, depth: number): string | undefined {
  if (n.kind === "stream") return `/t/${viewerTeam}/lineage?stream=${encodeURIComponent(n.name)}&depth=${depth}`;
  return n.team === viewerTeam ? `/t/${viewerTeam}/lineage?pipeline=${encodeURIComponent(n.name)}&depth=${depth}` : undefined;
}
