import type { Diagnostic } from "./diagnostics";
import { formatPath } from "./diagnostics";
import { pipelineDefinition, type Pipeline } from "./nodes";

export type ParseResult = { pipeline: Pipeline; diagnostics?: undefined } | { pipeline?: undefined; diagnostics: Diagnostic[] };

/**
 * Parses a pipeline definition (JSON text or an already-decoded value) with the
 * zod schemas. Problems come back as diagnostics attached to the node they are
 * in (found by the node's `id` even though zod reports an array index).
 */
export function parsePipeline(json: unknown): ParseResult {
  let value = json;
  if (typeof json === "string") {
    try {
      value = JSON.parse(json);
    } catch (e) {
      return { diagnostics: [{ severity: "error", code: "invalid-json", message: `pipeline is not valid JSON: ${(e as Error).message}`, path: "" }] };
    }
  }
  const parsed = pipelineDefinition.safeParse(value);
  if (parsed.success) return { pipeline: parsed.data };
  const rawNodes = (value as { nodes?: unknown })?.nodes;
  const diagnostics = parsed.error.issues.map((issue): Diagnostic => {
    const path = issue.path;
    if (path[0] === "nodes" && typeof path[1] === "number") {
      const raw = Array.isArray(rawNodes) ? (rawNodes[path[1]] as { id?: unknown } | undefined) : undefined;
      const nodeId = typeof raw?.id === "string" ? raw.id : undefined;
      return { severity: "error", code: "invalid-config", message: issue.message, nodeId, path: formatPath(path.slice(2)) };
    }
    return { severity: "error", code: "invalid-definition", message: issue.message, path: formatPath(path) };
  });
  return { diagnostics };
}
