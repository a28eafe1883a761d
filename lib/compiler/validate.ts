import { analyzePipeline, type ValidationContext } from "./analyze";
import { canonicalHashes } from "./canonical";
import { hasErrors, type Diagnostic } from "@/lib/pipeline/diagnostics";
import type { Pipeline } from "@/lib/pipeline/nodes";
import type { StreamSchema } from "@/lib/pipeline/schema";

export interface ValidationResult {
  diagnostics: Diagnostic[];
  /** Output schema per node id, for the canvas's field pickers and expression editors. */
  schemas: Record<string, StreamSchema>;
  /**
   * Canonical logic hash per node id (lib/pipeline/canonical.ts), only when the
   * pipeline has no errors. Hashing walks the graph upstream from each node, so
   * it needs what validation establishes (acyclic, every edge between existing
   * nodes and ports); callers take the hashes from here rather than walking an
   * unchecked graph themselves.
   */
  logicHashes?: Record<string, string>;
}

/** Checks a parsed pipeline. Never throws: every problem is a diagnostic on the node that has it. */
export function validatePipeline(pipeline: Pipeline, ctx: ValidationContext): ValidationResult {
  const { diagnostics, schemas } = analyzePipeline(pipeline, ctx);
  return { diagnostics, schemas, ...(hasErrors(diagnostics) ? {} : { logicHashes: canonicalHashes(pipeline) }) };
}
