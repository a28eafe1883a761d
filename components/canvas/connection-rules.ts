import type { NodeType } from "@/lib/pipeline/nodes";
import { palette } from "./palette";

/** The part of a node the connection rules look at. */
export interface RuleNode {
  id: string;
  type: NodeType;
}
/** An existing edge, or the connection being drawn (React Flow's source/target handles). */
export interface RuleEdge {
  source: string;
  sourceHandle?: string | null;
  target: string;
}

const name = (n: RuleNode) => `${palette[n.type].label} ${n.id}`;

/**
 * Why a new edge may not be drawn, or null when it may. The canvas refuses
 * these while the user drags, so the validator never has to explain a graph
 * that could not run: a Source takes no input, a Sink has no output, only a
 * Union merges several inputs, and records flow one way (no cycles).
 */
export function connectionRefusal(connection: RuleEdge, nodes: ReadonlyMap<string, RuleNode>, edges: readonly RuleEdge[]): string | null {
  const from = nodes.get(connection.source);
  const to = nodes.get(connection.target);
  if (!from || !to) return "Both ends of a connection must be nodes on the canvas.";
  if (from.id === to.id) return `${name(from)} cannot feed its own input; connect it to another node.`;
  if (to.type === "source") return `${name(to)} reads a warehouse stream and takes no input; connect ${from.id} to a Filter, Projection or Sink instead.`;
  if (from.type === "sink") return `${name(from)} writes a warehouse stream and has no output; to read that stream again, add a Source for it.`;
  const port = connection.sourceHandle ?? "out";
  if (edges.some((e) => e.source === from.id && (e.sourceHandle ?? "out") === port && e.target === to.id)) return `${from.id} is already connected to ${to.id}.`;
  if (to.type !== "union") {
    const existing = edges.find((e) => e.target === to.id);
    if (existing) return `${name(to)} already has an input (from ${existing.source}); to merge several inputs, connect them to a Union first.`;
  }
  // A cycle exists if the new edge's source is already downstream of its target.
  const downstream = new Map<string, string[]>();
  for (const e of edges) downstream.set(e.source, [...(downstream.get(e.source) ?? []), e.target]);
  const seen = new Set<string>([to.id]);
  const queue = [to.id];
  while (queue.length) {
    const id = queue.shift()!;
    if (id === from.id) return `Connecting ${from.id} to ${to.id} would make a cycle (${to.id} already feeds ${from.id}); records must flow one way.`;
    for (const next of downstream.get(id) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return null;
}
