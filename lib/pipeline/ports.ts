import type { PipelineNode } from "./nodes";

export const LATE_PORT = "late";
import { DEFAULT_INPUT_PORT, DEFAULT_OUTPUT_PORT, ELSE_PORT } from "./nodes";

/** Output ports of a node: Split has one per named output (+ else); Sink has none. */
export function outputPorts(node: PipelineNode): string[] {
  switch (node.type) {
    case "sink":
      return [];
    case "window":
      // Records too late even for allowedLateness leave on `late` (counted, never silently dropped).
      return [DEFAULT_OUTPUT_PORT, LATE_PORT];
    case "split":
      return [...node.config.outputs.map((o) => o.name), ...(node.config.unmatched === "else" ? [ELSE_PORT] : [])];
    default:
      return [DEFAULT_OUTPUT_PORT];
  }
}

/** Input ports: Sources have none; a Union accepts any port name (it labels its inputs); others take "in". */
export function acceptsInputPort(node: PipelineNode, port: string): boolean {
  if (node.type === "source") return false;
  if (node.type === "union") return true;
  return port === DEFAULT_INPUT_PORT;
}
