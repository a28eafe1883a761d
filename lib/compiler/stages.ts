import { MAIN_STAGE, nodeStages } from "@/lib/pipeline/stages";
import type { Diagnostic } from "@/lib/pipeline/diagnostics";
import { DEFAULT_INPUT_PORT, DEFAULT_OUTPUT_PORT, type NodeOfType, type Pipeline, type PipelineEdge, type PipelineNode } from "@/lib/pipeline/nodes";
import type { StreamSchema } from "@/lib/pipeline/schema";
import { analyzePipeline, type ValidationContext } from "./analyze";

/**
 * Keyed scale-out (docs/runtime.md "Stages"): a Window keeps per-key state, so
 * with more than one task every record of a key must reach the same task. The
 * compiler cuts the pipeline in front of each Window: the stage before it
 * writes the Window's input to an internal **repartition stream** keyed by the
 * window key (Kafka's default murmur2 partitioner, so any client agrees on the
 * partition), and a stage of its own reads that stream and runs the Window and
 * everything after it. Each stage is an ordinary pipeline graph — the stage
 * before gets a Sink on the repartition stream, the stage after a Source on it
 * — compiled by the same compiler, so a stage runs exactly like a one-stage
 * pipeline. Pipelines without a Window are one stage (no extra hop).
 */
export { MAIN_STAGE } from "@/lib/pipeline/stages";

/** Synthetic node ids contain a '.', which user node ids cannot, so they never collide. */
export const repartitionSinkId = (windowId: string) => `${windowId}.repartition`;
export const repartitionSourceId = (windowId: string) => `${windowId}.input`;

export interface Repartition {
  /** The Window whose input the stream carries (it names the stage that reads it). */
  window: string;
  /** The internal stream. */
  stream: string;
  /** Its schema: the Window's input schema. */
  schema: StreamSchema;
  /** The Window's config (the key and event time the writing stage computes). */
  config: NodeOfType<"window">["config"];
}

export interface StageDefinition {
  /** "main" (reads the pipeline's sources) or the id of the Window the stage starts with. */
  id: string;
  /** The stage's graph: its nodes, a Source on its repartition stream (stages after main), a Sink per repartition stream it writes. */
  pipeline: Pipeline;
  /** Stages after main: the repartition stream they read. */
  input?: Repartition;
  /** Repartition streams the stage writes, by the synthetic Sink node id. */
  repartitions: Map<string, Repartition>;
}

export interface StagesResult {
  stages: StageDefinition[];
  /** Why the graph cannot be cut (the pipeline still runs as one stage at parallelism 1). */
  diagnostics: Diagnostic[];
}

/**
 * Cuts a valid pipeline into stages. `streamName(windowId)` names a Window's
 * repartition stream. With `cut: false` (or no Window) the result is the one
 * main stage, the pipeline itself.
 */
export function splitStages(pipeline: Pipeline, ctx: ValidationContext, opts: { streamName: (windowId: string) => string; cut?: boolean }): StagesResult {
  const windows = pipeline.nodes.filter((n): n is NodeOfType<"window"> => n.type === "window");
  const single: StagesResult = { stages: [{ id: MAIN_STAGE, pipeline, repartitions: new Map() }], diagnostics: [] };
  if (opts.cut === false || windows.length === 0) return single;

  const analysis = analyzePipeline(pipeline, ctx);
  const incoming = new Map<string, PipelineEdge[]>(pipeline.nodes.map((n) => [n.id, []]));
  for (const e of pipeline.edges) incoming.get(e.target)?.push(e);
  const diagnostics: Diagnostic[] = [];

  // The stage of each node: a Window starts its own; any other node is in the stage of its inputs.
  const { stageOf, merges } = nodeStages(pipeline);
  for (const m of merges) {
    diagnostics.push({
      severity: "error",
      code: "stage-merge",
      nodeId: m.nodeId,
      path: "",
      message: `this node merges records that pass through different Windows (${m.from.map((st) => (st === MAIN_STAGE ? "none" : `"${st}"`)).join(", ")}); with more than one task each Window's records are regrouped by its key, so they cannot meet again here — use one Window per branch or parallelism 1`,
    });
  }
  if (diagnostics.length) return { ...single, diagnostics };

  const repartitionOf = new Map<string, Repartition>();
  for (const w of windows) {
    const input = incoming.get(w.id)![0];
    const schema = input ? schemaOfEdge(analysis.schemas, pipeline, input) : undefined;
    if (!schema) return { ...single, diagnostics: [{ severity: "error", code: "stage-schema", nodeId: w.id, path: "", message: "the Window's input schema is unknown; fix the errors above it" }] };
    repartitionOf.set(w.id, { window: w.id, stream: opts.streamName(w.id), schema, config: w.config });
  }

  const stageIds = [MAIN_STAGE, ...windows.map((w) => w.id)];
  const stages: StageDefinition[] = [];
  for (const id of stageIds) {
    const nodes: PipelineNode[] = pipeline.nodes.filter((n) => stageOf.get(n.id) === id);
    const members = new Set(nodes.map((n) => n.id));
    const edges: PipelineEdge[] = pipeline.edges.filter((e) => members.has(e.source) && members.has(e.target));
    const repartitions = new Map<string, Repartition>();
    // Edges into a Window of another stage become a Sink on that Window's repartition stream.
    for (const e of pipeline.edges) {
      if (!members.has(e.source) || members.has(e.target)) continue;
      const r = repartitionOf.get(e.target)!;
      const sinkId = repartitionSinkId(e.target);
      if (!repartitions.has(sinkId)) {
        const at = pipeline.nodes.find((n) => n.id === e.target)!.position;
        nodes.push({ id: sinkId, type: "sink", config: { stream: r.stream }, position: at });
        repartitions.set(sinkId, r);
      }
      edges.push({ source: e.source, sourcePort: e.sourcePort, target: sinkId, targetPort: DEFAULT_INPUT_PORT });
    }
    let input: Repartition | undefined;
    if (id !== MAIN_STAGE) {
      input = repartitionOf.get(id)!;
      const at = pipeline.nodes.find((n) => n.id === id)!.position;
      nodes.unshift({ id: repartitionSourceId(id), type: "source", config: { stream: input.stream }, position: at });
      edges.unshift({ source: repartitionSourceId(id), sourcePort: DEFAULT_OUTPUT_PORT, target: id, targetPort: DEFAULT_INPUT_PORT });
    }
    stages.push({ id, pipeline: { ...pipeline, nodes, edges }, ...(input ? { input } : {}), repartitions });
  }
  return { stages, diagnostics: [] };
}

/** A Window's late port carries its input records; every other port, the node's output. */
function schemaOfEdge(schemas: Record<string, StreamSchema>, pipeline: Pipeline, e: PipelineEdge): StreamSchema | undefined {
  const from = pipeline.nodes.find((n) => n.id === e.source);
  if (from?.type === "window" && e.sourcePort === "late") {
    const into = pipeline.edges.find((x) => x.target === from.id);
    return into ? schemaOfEdge(schemas, pipeline, into) : undefined;
  }
  return schemas[e.source];
}

/** The validation context of a stage: the catalog, plus the repartition streams with their schemas. */
export function stageContext(ctx: ValidationContext, stages: readonly StageDefinition[]): ValidationContext {
  const internal = new Map<string, StreamSchema>();
  for (const s of stages) {
    if (s.input) internal.set(s.input.stream, s.input.schema);
    for (const r of s.repartitions.values()) internal.set(r.stream, r.schema);
  }
  return { ...ctx, streams: (name) => (internal.has(name) ? { schema: internal.get(name)! } : ctx.streams(name)) };
}
