import { z } from "zod";
import { filterNodeConfig } from "./filter";
import { udfNodeConfig } from "./udf";
import { windowNodeConfig } from "./window";
import { projectionNodeConfig } from "./projection";
import { sinkNodeConfig } from "./sink";
import { sourceNodeConfig } from "./source";
import { splitNodeConfig } from "./split";
import { unionNodeConfig } from "./union";

export * from "./common";
export * from "./filter";
export * from "./projection";
export * from "./sink";
export * from "./source";
export * from "./split";
export * from "./union";
export * from "./udf";
export * from "./window";

export const NODE_TYPES = ["source", "projection", "filter", "split", "union", "window", "udf", "sink"] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** The config schema of each node type: the canvas builds its forms from these. */
export const nodeConfigSchemas = {
  source: sourceNodeConfig,
  projection: projectionNodeConfig,
  filter: filterNodeConfig,
  split: splitNodeConfig,
  union: unionNodeConfig,
  window: windowNodeConfig,
  udf: udfNodeConfig,
  sink: sinkNodeConfig,
} as const satisfies Record<NodeType, z.ZodType>;

export const nodeId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "node ids use letters, digits, '_' and '-'");

export const nodePosition = z.object({ x: z.number(), y: z.number() });

const base = { id: nodeId, position: nodePosition.default({ x: 0, y: 0 }) };

/** One pipeline node: `{id, type, config, position}`, discriminated by `type`. */
export const pipelineNode = z.discriminatedUnion("type", [
  z.object({ ...base, type: z.literal("source"), config: sourceNodeConfig }),
  z.object({ ...base, type: z.literal("projection"), config: projectionNodeConfig }),
  z.object({ ...base, type: z.literal("filter"), config: filterNodeConfig }),
  z.object({ ...base, type: z.literal("split"), config: splitNodeConfig }),
  z.object({ ...base, type: z.literal("union"), config: unionNodeConfig }),
  z.object({ ...base, type: z.literal("window"), config: windowNodeConfig }),
  z.object({ ...base, type: z.literal("udf"), config: udfNodeConfig }),
  z.object({ ...base, type: z.literal("sink"), config: sinkNodeConfig }),
]);
export type PipelineNode = z.infer<typeof pipelineNode>;
export type NodeOfType<T extends NodeType> = Extract<PipelineNode, { type: T }>;

/** `{type, config}` alone, for APIs that edit one node's config. */
export const nodeConfig = z.discriminatedUnion(
  "type",
  NODE_TYPES.map((t) => z.object({ type: z.literal(t), config: nodeConfigSchemas[t] })) as unknown as [
    z.ZodObject<{ type: z.ZodLiteral<NodeType>; config: z.ZodType }>,
  ],
);

export const DEFAULT_OUTPUT_PORT = "out";
export const DEFAULT_INPUT_PORT = "in";

/** An edge from an output port to an input port (React Flow's source/target handles). */
export const pipelineEdge = z.object({
  id: z.string().max(128).optional(),
  source: nodeId,
  sourcePort: z.string().min(1).max(64).default(DEFAULT_OUTPUT_PORT),
  target: nodeId,
  targetPort: z.string().min(1).max(64).default(DEFAULT_INPUT_PORT),
});
export type PipelineEdge = z.infer<typeof pipelineEdge>;

export const PIPELINE_FORMAT_VERSION = 1;

/** The versioned pipeline definition that the canvas saves and deployments pin. */
export const pipelineDefinition = z.object({
  version: z.literal(PIPELINE_FORMAT_VERSION),
  nodes: z.array(pipelineNode).max(500),
  edges: z.array(pipelineEdge).max(2000).default([]),
});
export type Pipeline = z.infer<typeof pipelineDefinition>;
/** The JSON a client sends (defaults not yet applied). */
export type PipelineInput = z.input<typeof pipelineDefinition>;

/** JSON Schema (2020-12) of a node type's config, for form generators and API docs. */
export function nodeConfigJsonSchema(type: NodeType): Record<string, unknown> {
  return z.toJSONSchema(nodeConfigSchemas[type], { io: "input" }) as Record<string, unknown>;
}

/** The CEL expressions a node's config holds (Filter predicate, Projection fields, Split conditions, Window keys). */
export function nodeExpressions(node: PipelineNode): string[] {
  switch (node.type) {
    case "filter":
      return [node.config.predicate];
    case "projection":
      return node.config.fields.flatMap((f) => (f.expr === undefined ? [] : [f.expr]));
    case "split":
      return node.config.outputs.map((o) => o.condition);
    case "window":
      return node.config.keys.map((k) => k.expr);
    default:
      return [];
  }
}
