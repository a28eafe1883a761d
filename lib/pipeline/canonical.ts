import { createHash } from "node:crypto";
import { canonicalExpression } from "@/lib/expr";
import type { Pipeline, PipelineEdge, PipelineNode } from "./nodes";
import { ELSE_PORT } from "./nodes";

/**
 * Canonical form of the logic that produces a node's output: the node's type
 * and normalised config plus, recursively, the canonical forms of its inputs.
 * Node ids, canvas positions, JSON key order, expression whitespace and
 * Projection field order do not appear in it, so the same upstream logic has
 * the same hash in any pipeline: that is how Sluice notices a stream that
 * already exists. A Sink adds no logic: its hash is its input's.
 */
export type Canonical = null | boolean | number | string | Canonical[] | { [k: string]: Canonical };

function sortKeys(v: unknown): Canonical {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    const out: Record<string, Canonical> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v as Canonical;
}

const byJson = (a: Canonical, b: Canonical) => {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

function canonicalConfig(node: PipelineNode): Canonical {
  switch (node.type) {
    case "source":
      return { stream: node.config.stream };
    case "sink":
      return null;
    case "filter":
      return { predicate: canonicalExpression(node.config.predicate) };
    case "projection": {
      const c = node.config;
      const fields = c.fields
        .map((f) => sortKeys({ name: f.name, from: f.from, expr: f.expr === undefined ? undefined : canonicalExpression(f.expr), cast: f.cast }))
        .sort(byJson);
      return sortKeys({ fields, keepOthers: c.keepOthers, drop: c.keepOthers ? [...new Set(c.drop)].sort() : [], flatten: [...c.flatten].sort((a, b) => a.field.localeCompare(b.field)) });
    }
    case "split":
      // Output names are labels; what a port carries is defined by the conditions (and, in "first" mode, their order).
      return { mode: node.config.mode, conditions: node.config.outputs.map((o) => canonicalExpression(o.condition)) };
    case "union":
      return { sourceField: node.config.sourceField ?? null };
    case "window": {
      const c = node.config;
      return sortKeys({
        ...c,
        keys: c.keys.map((k) => ({ name: k.name, expr: canonicalExpression(k.expr) })).sort((a, b) => a.name.localeCompare(b.name)),
        aggregates: [...c.aggregates].sort((a, b) => a.name.localeCompare(b.name)),
      });
    }
    default:
      return sortKeys(node.config);
  }
}

/** What an edge's source port carries, independent of the port's user-given name. */
function portKey(node: PipelineNode, port: string): Canonical {
  if (node.type !== "split") return null;
  return port === ELSE_PORT ? "else" : node.config.outputs.findIndex((o) => o.name === port);
}

/** A Sink's hash is its input's: the upstream node's, or for a Split port, that port's. */
function sinkForm(input: Canonical | undefined): Canonical {
  if (input === undefined) return null;
  const { from, port } = input as { from: Canonical; port: Canonical };
  return port === null ? from : { split: from, port };
}

export function canonicalForm(pipeline: Pipeline, nodeId: string): Canonical {
  const nodes = new Map(pipeline.nodes.map((n) => [n.id, n]));
  const incoming = new Map<string, PipelineEdge[]>();
  for (const e of pipeline.edges) incoming.set(e.target, [...(incoming.get(e.target) ?? []), e]);
  const memo = new Map<string, Canonical>();
  const visiting = new Set<string>();
  const form = (id: string): Canonical => {
    const cached = memo.get(id);
    if (cached !== undefined) return cached;
    const node = nodes.get(id);
    if (!node) throw new Error(`no node "${id}" in this pipeline`);
    if (visiting.has(id)) throw new Error(`node "${id}" is on a cycle; canonical forms need an acyclic pipeline`);
    visiting.add(id);
    const inputs = (incoming.get(id) ?? []).map((e): Canonical => {
      const src = nodes.get(e.source);
      const from = src ? form(e.source) : null;
      const port = src ? portKey(src, e.sourcePort) : null;
      // Union input ports matter only when sourceField writes them into records.
      const label = node.type === "union" && node.config.sourceField !== undefined ? e.targetPort : null;
      return { from, port, label };
    });
    inputs.sort(byJson);
    visiting.delete(id);
    const result: Canonical = node.type === "sink" ? sinkForm(inputs[0]) : { type: node.type, config: canonicalConfig(node), inputs };
    memo.set(id, result);
    return result;
  };
  return form(nodeId);
}

/** Stable SHA-256 (hex) of a node's canonical form. */
export function canonicalHash(pipeline: Pipeline, nodeId: string): string {
  return createHash("sha256").update(JSON.stringify(canonicalForm(pipeline, nodeId))).digest("hex");
}
