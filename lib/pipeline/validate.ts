import { analyzePipeline, type ValidationContext } from "./analyze";
import type { Diagnostic } from "./diagnostics";
import type { Pipeline } from "./nodes";
import type { StreamSchema } from "./schema";
import { checkUdfSources } from "./stateful";

export interface ValidationResult {
  diagnostics: Diagnostic[];
  /** Output schema per node id, for the canvas's field pickers and expression editors. */
  schemas: Record<string, StreamSchema>;
}

/** Checks a parsed pipeline. Never throws: every problem is a diagnostic on the node that has it. */
export function validatePipeline(pipeline: Pipeline, ctx: ValidationContext): ValidationResult {
  const { diagnostics, schemas } = analyzePipeline(pipeline, ctx);
  return { diagnostics, schemas };
}

/**
 * validatePipeline plus the UDF compile check (which needs an isolate, hence
 * async): use it where a pipeline is saved or deployed.
 */
export async function validatePipelineAsync(pipeline: Pipeline, ctx: ValidationContext): Promise<ValidationResult> {
  const result = validatePipeline(pipeline, ctx);
  for (const { nodeId, diagnostic: d } of await checkUdfSources(pipeline.nodes, ctx)) {
    result.diagnostics.push({ severity: d.severity, code: d.code, message: d.message, nodeId, path: `config.${d.path}` });
  }
  return result;
}
