import type { Built } from "@/lib/operators/types";
import type { NodeOfType } from "./nodes";
import type { StreamSchema } from "./schema";

/**
 * Window and UDF nodes, built from core-2's operators. Until those land this
 * reports that the node type is not available, so validation stays honest.
 */
export type StatefulOp = { kind: "window" | "udf"; nodeId: string };

export function buildStatefulNode(node: NodeOfType<"window"> | NodeOfType<"udf">, _input: StreamSchema): Built<StatefulOp> {
  return {
    diagnostics: [{ severity: "error", code: "unsupported-node", message: `${node.type} nodes are not available in this build yet`, path: "" }],
  };
}
