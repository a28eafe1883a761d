import { analyzePipeline, type ValidationContext } from "./analyze";
import type { Diagnostic } from "./diagnostics";
import type { Pipeline } from "./nodes";
import type { StreamSchema } from "./schema";

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

