import dagre from "@dagrejs/dagre";

/** A node as the layout sees it: measured size when the canvas has measured it. */
export interface LayoutNode {
  id: string;
  measured?: { width?: number; height?: number };
}
export interface LayoutEdge {
  source: string;
  target: string;
}

// Until the canvas has measured a node, assume the node card's usual size.
const DEFAULT_WIDTH = 190;
const DEFAULT_HEIGHT = 70;

/**
 * Left-to-right layered layout (dagre): sources on the left, sinks on the
 * right, each node placed by its real size so wide Split nodes do not overlap
 * their neighbours. Returns top-left positions, which is what React Flow uses.
 * Pure, so the canvas's auto-layout and pipelines built from SQL (lib/sql) share it.
 */
export function layoutPipeline(nodes: readonly LayoutNode[], edges: readonly LayoutEdge[]): Record<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: n.measured?.width || DEFAULT_WIDTH, height: n.measured?.height || DEFAULT_HEIGHT });
  edges.forEach((e, i) => {
    if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target, {}, `e${i}`);
  });
  dagre.layout(g);
  const positions: Record<string, { x: number; y: number }> = {};
  for (const n of nodes) {
    const p = g.node(n.id);
    // dagre answers centres.
    positions[n.id] = { x: Math.round(p.x - p.width / 2), y: Math.round(p.y - p.height / 2) };
  }
  return positions;
}
