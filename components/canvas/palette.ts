import type { NodeType } from "@/lib/pipeline/nodes";

/**
 * The palette: every node type with its label, what it does, its accent, and
 * the config a new node starts with (valid where it can be, so the validator's
 * first message is about what the user has not chosen yet).
 */
export interface NodeConfigUi {
  label: string;
  description: string;
  accent: string;
  defaultConfig: Record<string, unknown>;
}

export const palette: Record<NodeType, NodeConfigUi> = {
  source: { label: "Source", description: "Read a warehouse stream", accent: "bg-emerald-500", defaultConfig: { stream: "" } },
  filter: { label: "Filter", description: "Keep records matching a CEL predicate", accent: "bg-sky-500", defaultConfig: { predicate: "true" } },
  projection: { label: "Projection", description: "Select, rename, compute, cast fields", accent: "bg-indigo-500", defaultConfig: { fields: [], keepOthers: true } },
  split: { label: "Split", description: "Route records to named outputs", accent: "bg-amber-500", defaultConfig: { outputs: [{ name: "matched", condition: "true" }], mode: "first", unmatched: "else" } },
  union: { label: "Union", description: "Merge two or more inputs", accent: "bg-fuchsia-500", defaultConfig: {} },
  window: {
    label: "Window",
    description: "Aggregate per key over time windows",
    accent: "bg-rose-500",
    defaultConfig: { window: { kind: "tumbling", size: "1m" }, keys: [], aggregates: [{ name: "count", fn: "count" }] },
  },
  udf: { label: "UDF", description: "Run a JavaScript function", accent: "bg-slate-600", defaultConfig: { function: { inline: { form: "map", source: "(r) => r" } } } },
  sink: { label: "Sink", description: "Write a warehouse stream", accent: "bg-emerald-700", defaultConfig: { stream: "" } },
};

export const NODE_ORDER: NodeType[] = ["source", "filter", "projection", "split", "union", "window", "udf", "sink"];
