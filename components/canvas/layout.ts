import dagre from "@dagrejs/dagre";
import type { XYPosition } from "@xyflow/react";

/** A node as the layout sees it: measured size when React Flow has measured it. */
export interface LayoutNode {
  id: string;
  measured?: { width?: number; height?: number };
}
export interface LayoutEdge {
  source: string;
  target: string;
}

// Until React Flow has measured a node, assume the node card's usual size.
const DEFAULT_WIDTH = 190;
const DEFAULT_HEIGHT = 70;

/**
 * Left-to-right layered layout (dagre): sources on the left, sinks on the
 * right, each node placed by its real size so wide Split nodes do not overlap
 * their neighbours. Returns top-left positions, which is what React Flow uses.
 */
export function layoutGraph(nodes: readonly LayoutNode[], edges: readonly LayoutEdge[]): Record<string, XYPosition> {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: n.measured?.width || DEFAULT_WIDTH, height: n.measured?.height || DEFAULT_HEIGHT });
  edges.forEach((e, i) => {
    if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target, {}, `e${i}`);
  });
  dagre.layout(g);
  const positions: Record<string, XYPosition> = {};
  for (const n of nodes) {
    const p = g.node(n.id);
    // dagre answers centres.
    positions[n.id] = { x: Math.round(p.x - p.width / 2), y: Math.round(p.y - p.height / 2) };
  }
  return positions;
}
