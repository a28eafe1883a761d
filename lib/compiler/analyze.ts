import { didYouMeanSuffix } from "@/lib/expr/suggest";
import { buildFilter, type FilterOp } from "@/lib/operators/filter";
import { buildProjection, type ProjectionOp } from "@/lib/operators/projection";
import { buildSplit, type SplitOp } from "@/lib/operators/split";
import type { Built, OpDiagnostic } from "@/lib/operators/types";
import { buildUnion, type UnionOp } from "@/lib/operators/union";
import type { Diagnostic } from "@/lib/pipeline/diagnostics";
import type { UdfDefinition } from "@/lib/udf";
import type { Pipeline, PipelineEdge, PipelineNode } from "@/lib/pipeline/nodes";
import { acceptsInputPort, LATE_PORT, outputPorts } from "@/lib/pipeline/ports";
import type { Field, StreamSchema } from "@/lib/pipeline/schema";
import { fieldTypesEqual, formatFieldType } from "@/lib/pipeline/schema";
import { buildStatefulNode, type StatefulOp } from "./stateful";

export interface StreamInfo {
  schema: StreamSchema;
}

/** What validation needs from the outside world (the warehouse catalog), as plain functions: no I/O here. */
export interface ValidationContext {
  streams: (name: string) => StreamInfo | undefined;
  /** Known stream names, for "did you mean" on a mistyped Source/Sink stream. */
  streamNames?: () => Iterable<string>;
  /**
   * The team's function registry, for UDF nodes that reference a function by
   * name: the given version, or the latest when `version` is undefined.
   */
  functions?: (name: string, version?: number) => RegisteredFunction | undefined;
  /** Registered function names, for "did you mean". */
  functionNames?: () => Iterable<string>;
}

/** A function version from the team's registry (core-2's UdfDefinition). */
export type RegisteredFunction = UdfDefinition;

export type NodeOp =
  | { kind: "source"; nodeId: string; stream: string }
  | { kind: "sink"; nodeId: string; stream: string }
  | FilterOp
  | ProjectionOp
  | SplitOp
  | UnionOp
  | StatefulOp;

export interface Analysis {
  diagnostics: Diagnostic[];
  /** Output schema of every node whose output could be computed. */
  schemas: Record<string, StreamSchema>;
  /** Topological order of the acyclic nodes. */
  order: string[];
  nodes: Map<string, PipelineNode>;
  incoming: Map<string, PipelineEdge[]>;
  outgoing: Map<string, PipelineEdge[]>;
  /** Built operators, for nodes without errors (and whose inputs have none). */
  ops: Map<string, NodeOp>;
}

/**
 * Graph checks, schema propagation and operator building in one walk. The
 * validator reports its diagnostics; the compiler reuses its operators, so the
 * code that checks an expression is the code that runs it.
 */
export function analyzePipeline(pipeline: Pipeline, ctx: ValidationContext): Analysis {
  const diagnostics: Diagnostic[] = [];
  const nodes = new Map<string, PipelineNode>();
  const incoming = new Map<string, PipelineEdge[]>();
  const outgoing = new Map<string, PipelineEdge[]>();
  const schemas: Record<string, StreamSchema> = {};
  const ops = new Map<string, NodeOp>();
  const push = (d: Diagnostic) => diagnostics.push(d);

  pipeline.nodes.forEach((n, i) => {
    if (nodes.has(n.id)) push({ severity: "error", code: "duplicate-node-id", message: `node id "${n.id}" is used twice`, nodeId: n.id, path: `nodes[${i}].id` });
    else {
      nodes.set(n.id, n);
      incoming.set(n.id, []);
      outgoing.set(n.id, []);
    }
  });

  // Edges: endpoints and ports must exist; duplicates are refused.
  const edgeKeys = new Set<string>();
  pipeline.edges.forEach((e, i) => {
    const path = `edges[${i}]`;
    const from = nodes.get(e.source);
    const to = nodes.get(e.target);
    const base = { edgeId: e.id, path };
    if (!from || !to) {
      const missing = !from ? e.source : e.target;
      push({ ...base, severity: "error", code: "unknown-node", message: `edge refers to node "${missing}", which does not exist${didYouMeanSuffix(missing, nodes.keys())}` });
      return;
    }
    const ports = outputPorts(from);
    if (!ports.includes(e.sourcePort)) {
      push({
        ...base,
        severity: "error",
        code: "unknown-port",
        nodeId: from.id,
        message: ports.length === 0 ? `a ${from.type} has no outputs` : `"${from.id}" has no output "${e.sourcePort}" (outputs: ${ports.join(", ")})`,
      });
      return;
    }
    if (!acceptsInputPort(to, e.targetPort)) {
      push({ ...base, severity: "error", code: "unknown-port", nodeId: to.id, message: to.type === "source" ? "a source has no inputs" : `"${to.id}" has no input "${e.targetPort}" (use "in")` });
      return;
    }
    if (e.source === e.target) {
      push({ ...base, severity: "error", code: "cycle", nodeId: to.id, message: "a node cannot feed itself" });
      return;
    }
    const key = `${e.source}\u0000${e.sourcePort}\u0000${e.target}\u0000${e.targetPort}`;
    if (edgeKeys.has(key)) {
      push({ ...base, severity: "error", code: "duplicate-edge", nodeId: to.id, message: `"${e.source}" is connected to "${e.target}" twice` });
      return;
    }
    edgeKeys.add(key);
    outgoing.get(from.id)!.push(e);
    incoming.get(to.id)!.push(e);
  });

  // Port arity.
  for (const n of nodes.values()) {
    const ins = incoming.get(n.id)!.length;
    if (n.type === "union") {
      if (ins < 2) push({ severity: "error", code: "arity", nodeId: n.id, path: "", message: `a union needs at least 2 inputs, it has ${ins}` });
    } else if (n.type !== "source") {
      if (ins === 0) push({ severity: "error", code: "arity", nodeId: n.id, path: "", message: `connect an input to this ${n.type}` });
      else if (ins > 1) push({ severity: "error", code: "arity", nodeId: n.id, path: "", message: `a ${n.type} takes one input, it has ${ins}: merge them with a Union first` });
    }
    if (n.type === "split") {
      const used = new Set(outgoing.get(n.id)!.map((e) => e.sourcePort));
      for (const p of outputPorts(n)) {
        if (!used.has(p)) push({ severity: "warning", code: "unconnected-output", nodeId: n.id, path: "config.outputs", message: `output "${p}" is not connected; its records are discarded` });
      }
    }
  }

  // Topological order (Kahn); whatever is left sits on a cycle.
  const indeg = new Map<string, number>();
  for (const [id, es] of incoming) indeg.set(id, es.length);
  const queue = [...nodes.keys()].filter((id) => indeg.get(id) === 0);
  const order: string[] = [];
  while (queue.length > 0) {
    const id = queue.shift()!;
    order.push(id);
    for (const e of outgoing.get(id)!) {
      const d = indeg.get(e.target)! - 1;
      indeg.set(e.target, d);
      if (d === 0) queue.push(e.target);
    }
  }
  if (order.length < nodes.size) {
    // Left over are the cycles and whatever hangs below them; name only the nodes on a cycle.
    const sorted = new Set(order);
    const rest = [...nodes.keys()].filter((id) => !sorted.has(id));
    for (const cycle of cyclesAmong(rest, (id) => outgoing.get(id)!.map((e) => e.target).filter((t) => !sorted.has(t)))) {
      for (const id of cycle) {
        push({ severity: "error", code: "cycle", nodeId: id, path: "", message: `this node is part of a cycle (${cycle.join(", ")}); pipelines must be acyclic` });
      }
    }
  }

  // Reachability: every node must lie on a Source → … → Sink path.
  const forward = reach(nodes, (id) => outgoing.get(id)!.map((e) => e.target), (n) => n.type === "source");
  const backward = reach(nodes, (id) => incoming.get(id)!.map((e) => e.source), (n) => n.type === "sink");
  for (const n of nodes.values()) {
    if (n.type === "sink" && !forward.has(n.id)) push({ severity: "error", code: "unreachable-sink", nodeId: n.id, path: "", message: "no source reaches this sink" });
    else if (n.type !== "sink" && !backward.has(n.id)) push({ severity: "error", code: "dangling-node", nodeId: n.id, path: "", message: "this node's output reaches no sink: connect it to a Sink or delete it" });
  }
  if (![...nodes.values()].some((n) => n.type === "source")) push({ severity: "error", code: "no-source", path: "nodes", message: "a pipeline needs at least one Source" });
  if (![...nodes.values()].some((n) => n.type === "sink")) push({ severity: "error", code: "no-sink", path: "nodes", message: "a pipeline needs at least one Sink" });

  suspiciousShapes(nodes, incoming, push);

  // Schema propagation and operator building, in topological order.
  const attach = (node: PipelineNode, built: Built<unknown>, prefix = "config") => {
    for (const d of built.diagnostics) diagnostics.push(toDiagnostic(node.id, d, prefix));
  };
  // A Window's `late` port carries its input records, so its schema is the Window's input schema.
  const lateSchemas: Record<string, StreamSchema> = {};
  const schemaOfEdge = (e: PipelineEdge) => (e.sourcePort === LATE_PORT && nodes.get(e.source)?.type === "window" ? lateSchemas[e.source] : schemas[e.source]);
  for (const id of order) {
    const node = nodes.get(id)!;
    const ins = incoming.get(id)!;
    const inputSchemas = ins.map(schemaOfEdge);
    if (node.type !== "source" && (ins.length === 0 || inputSchemas.some((s) => s === undefined))) continue;
    if (node.type !== "union" && ins.length > 1) continue;
    const input = inputSchemas[0];
    switch (node.type) {
      case "source": {
        const stream = ctx.streams(node.config.stream);
        if (!stream) {
          push({ severity: "error", code: "unknown-stream", nodeId: id, path: "config.stream", message: `stream "${node.config.stream}" does not exist or you cannot read it${didYouMeanSuffix(node.config.stream, ctx.streamNames?.() ?? [])}` });
          break;
        }
        schemas[id] = stream.schema;
        ops.set(id, { kind: "source", nodeId: id, stream: node.config.stream });
        break;
      }
      case "sink": {
        const existing = ctx.streams(node.config.stream);
        if (existing) for (const d of sinkCompatibility(input, existing.schema, node.config.stream)) push({ ...d, nodeId: id });
        schemas[id] = input;
        ops.set(id, { kind: "sink", nodeId: id, stream: node.config.stream });
        break;
      }
      case "filter":
        record(node, buildFilter(id, node.config, input));
        break;
      case "projection":
        record(node, buildProjection(id, node.config, input));
        break;
      case "split":
        record(node, buildSplit(id, node.config, input));
        break;
      case "union":
        record(node, buildUnion(id, node.config, ins.map((e, i) => ({ port: e.targetPort, schema: inputSchemas[i] }))));
        break;
      case "window":
        lateSchemas[id] = input;
        record(node, buildStatefulNode(node, input, ctx));
        break;
      case "udf":
        record(node, buildStatefulNode(node, input, ctx));
        break;
    }
  }

  function record(node: PipelineNode, built: Built<NodeOp>) {
    attach(node, built);
    if (built.op && built.outputSchema && !built.diagnostics.some((d) => d.severity === "error")) {
      ops.set(node.id, built.op);
      schemas[node.id] = built.outputSchema;
    }
  }

  return { diagnostics, schemas, order, nodes, incoming, outgoing, ops };
}

/** Graphs that are valid but almost certainly not what the user meant. */
function suspiciousShapes(nodes: Map<string, PipelineNode>, incoming: Map<string, PipelineEdge[]>, push: (d: Diagnostic) => void): void {
  const read = new Set<string>();
  for (const n of nodes.values()) if (n.type === "source") read.add(n.config.stream);
  for (const n of nodes.values()) {
    if (n.type === "sink" && read.has(n.config.stream)) {
      push({
        severity: "error",
        code: "feedback-loop",
        nodeId: n.id,
        path: "config.stream",
        message: `this pipeline reads "${n.config.stream}" and writes it back, so every record it writes is read again (a feedback loop); write to another stream`,
      });
    }
    if (n.type === "union") {
      const seen = new Set<string>();
      for (const e of incoming.get(n.id)!) {
        const from = `${e.source}\u0000${e.sourcePort}`;
        if (seen.has(from)) push({ severity: "warning", code: "duplicate-input", nodeId: n.id, path: "", message: `"${e.source}" is connected to this union more than once, so each of its records comes out twice` });
        seen.add(from);
      }
    }
    if (n.type === "split" && n.config.outputs.length === 1 && n.config.unmatched === "drop") {
      push({ severity: "info", code: "split-as-filter", nodeId: n.id, path: "config.outputs", message: "a split with one output and unmatched records dropped is a filter; a Filter node says so more plainly" });
    }
  }
}

/** Strongly connected components with more than one node (Tarjan): the cycles of a graph. */
function cyclesAmong(ids: string[], next: (id: string) => string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.reverse());
    }
  };
  for (const id of ids) if (!index.has(id)) visit(id);
  return out;
}

function reach(nodes: Map<string, PipelineNode>, next: (id: string) => string[], start: (n: PipelineNode) => boolean): Set<string> {
  const seen = new Set<string>();
  const stack = [...nodes.values()].filter(start).map((n) => n.id);
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...next(id));
  }
  return seen;
}

function toDiagnostic(nodeId: string, d: OpDiagnostic, prefix: string): Diagnostic {
  return { severity: d.severity, code: d.code, message: d.message, nodeId, path: d.path ? `${prefix}.${d.path}` : prefix === "config" ? "" : prefix, ...(d.range ? { range: d.range } : {}) };
}

/** A sink writing an existing stream must produce what the stream's consumers rely on. */
function sinkCompatibility(produced: StreamSchema, target: StreamSchema, stream: string): Omit<Diagnostic, "nodeId">[] {
  const out: Omit<Diagnostic, "nodeId">[] = [];
  const byName = new Map<string, Field>(produced.map((f) => [f.name, f]));
  for (const f of target) {
    const p = byName.get(f.name);
    if (!p) {
      if (!f.nullable) out.push({ severity: "error", code: "sink-schema-mismatch", path: "config.stream", message: `stream "${stream}" requires field "${f.name}" (${formatFieldType(f.type)}), which this pipeline does not produce` });
      continue;
    }
    const widening = p.type === "int" && f.type === "float";
    if (!fieldTypesEqual(p.type, f.type) && !widening && f.type !== "json") {
      out.push({ severity: "error", code: "sink-schema-mismatch", path: "config.stream", message: `stream "${stream}" has "${f.name}" as ${formatFieldType(f.type)}, but this pipeline produces ${formatFieldType(p.type)}` });
    } else if (p.nullable && !f.nullable) {
      out.push({ severity: "warning", code: "sink-nullable", path: "config.stream", message: `"${f.name}" may be null here, but stream "${stream}" declares it non-null` });
    }
  }
  const known = new Set(target.map((f) => f.name));
  const extra = produced.filter((f) => !known.has(f.name)).map((f) => f.name);
  if (extra.length > 0) {
    out.push({ severity: "warning", code: "sink-extra-fields", path: "config.stream", message: `fields ${extra.map((x) => `"${x}"`).join(", ")} are not in the schema of stream "${stream}"; publish a new schema version to document them` });
  }
  return out;
}
