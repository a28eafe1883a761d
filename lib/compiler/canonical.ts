import { createHash } from "node:crypto";
import { canonicalExpression } from "@/lib/expr";
import type { Pipeline, PipelineEdge, PipelineNode } from "@/lib/pipeline/nodes";
import { ELSE_PORT } from "@/lib/pipeline/nodes";

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

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Hashes are Merkle-style: a node's canonical form names its inputs by their
 * hashes, not by their nested forms, so diamonds (fan-out then union) cost
 * linear time and space instead of doubling per level.
 */
class Canonicalizer {
  private readonly nodes: Map<string, PipelineNode>;
  private readonly incoming = new Map<string, PipelineEdge[]>();
  private readonly hashes = new Map<string, string>();
  private readonly visiting = new Set<string>();

  constructor(pipeline: Pipeline) {
    this.nodes = new Map(pipeline.nodes.map((n) => [n.id, n]));
    for (const e of pipeline.edges) this.incoming.set(e.target, [...(this.incoming.get(e.target) ?? []), e]);
  }

  private node(id: string): PipelineNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node "${id}" in this pipeline`);
    return node;
  }

  private inputs(node: PipelineNode): { from: string | null; port: Canonical; label: Canonical }[] {
    return (this.incoming.get(node.id) ?? []).map((e) => {
      const src = this.nodes.get(e.source);
      // Union input ports matter only when sourceField writes them into records.
      const label = node.type === "union" && node.config.sourceField !== undefined ? e.targetPort : null;
      return { from: src ? this.hash(e.source) : null, port: src ? portKey(src, e.sourcePort) : null, label };
    });
  }

  /** One level: type, normalised config, and inputs by hash. A Sink's form is its input's (see canonicalHash). */
  form(id: string): Canonical {
    const node = this.node(id);
    const inputs = this.inputs(node).sort(byJson);
    return { type: node.type, config: canonicalConfig(node), inputs };
  }

  hash(id: string): string {
    const cached = this.hashes.get(id);
    if (cached !== undefined) return cached;
    const node = this.node(id);
    if (this.visiting.has(id)) throw new Error(`node "${id}" is on a cycle; canonical forms need an acyclic pipeline`);
    this.visiting.add(id);
    let h: string;
    if (node.type === "sink") {
      // A Sink adds no logic: its hash is its input's (a Split port's when it hangs off a Split).
      const [input] = this.inputs(node);
      h = !input || input.from === null ? sha256("null") : input.port === null ? input.from : sha256(JSON.stringify({ split: input.from, port: input.port }));
    } else h = sha256(JSON.stringify(this.form(id)));
    this.visiting.delete(id);
    this.hashes.set(id, h);
    return h;
  }
}

/** The canonical form of one node, its inputs named by their canonical hashes. */
export function canonicalForm(pipeline: Pipeline, nodeId: string): Canonical {
  return new Canonicalizer(pipeline).form(nodeId);
}

/** Stable SHA-256 (hex) of the logic producing a node's output. */
export function canonicalHash(pipeline: Pipeline, nodeId: string): string {
  return new Canonicalizer(pipeline).hash(nodeId);
}

/** Every node's canonical hash in one pass (nodes on a cycle are left out). */
export function canonicalHashes(pipeline: Pipeline): Record<string, string> {
  const c = new Canonicalizer(pipeline);
  const out: Record<string, string> = {};
  for (const n of pipeline.nodes) {
    try {
      out[n.id] = c.hash(n.id);
    } catch {
      // on a cycle: no hash
    }
  }
  return out;
}
