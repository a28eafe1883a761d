import type { UdfForm, UdfNodeConfig } from "@/lib/pipeline/nodes/udf";
import type { OpDiagnostic } from "@/lib/operators/types";
import type { StreamSchema } from "@/lib/pipeline/schema";
import { didYouMeanSuffix } from "@/lib/expr/suggest";
import { validateUdfSource } from "./validate";

/** A function as the registry stores one version of it (the Function model). */
export interface UdfDefinition {
  name: string;
  version: number;
  source: string;
  form: UdfForm;
}

export type UdfLookup = (name: string, version?: number) => UdfDefinition | undefined;

export interface ResolvedUdf {
  source: string;
  form: UdfForm;
  /** Set for registry functions: what the deployment pins. */
  name?: string;
  version?: number;
}

export interface BuiltUdf {
  diagnostics: OpDiagnostic[];
  resolved?: ResolvedUdf;
  outputSchema?: StreamSchema;
}

/**
 * Validation of a UDF node: resolves a registry reference (pinning the latest
 * version when none is given), compile-checks the source, and derives the
 * output schema — the input's for filter; the declared `outputSchema` for
 * map/flatMap, or the input's with a warning when none is declared (the
 * function is assumed to keep the record's fields).
 */
export function buildUdf(config: UdfNodeConfig, input: StreamSchema, lookup?: UdfLookup, names?: () => Iterable<string>): BuiltUdf {
  const diagnostics: OpDiagnostic[] = [];
  let resolved: ResolvedUdf;
  const fn = config.function;
  if ("inline" in fn) {
    resolved = { source: fn.inline.source, form: fn.inline.form };
    diagnostics.push(...validateUdfSource(resolved.source, resolved.form, "function.inline.source"));
  } else {
    const def = lookup?.(fn.name, fn.version);
    if (!def) {
      const what = fn.version === undefined ? `function "${fn.name}"` : `version ${fn.version} of function "${fn.name}"`;
      diagnostics.push({
        severity: "error",
        code: "unknown-function",
        message: `${what} is not in this team's function registry${names ? didYouMeanSuffix(fn.name, names()) : ""}`,
        path: fn.version === undefined ? "function.name" : "function.version",
      });
      return { diagnostics };
    }
    resolved = { source: def.source, form: def.form, name: def.name, version: def.version };
    // Registry versions were checked when saved; a failure here means the runtime changed under them.
    diagnostics.push(...validateUdfSource(def.source, def.form, "function.name"));
  }
  let outputSchema: StreamSchema = input;
  if (resolved.form === "filter") {
    if (config.outputSchema) diagnostics.push({ severity: "warning", code: "ignored", message: "a filter function keeps records unchanged, so outputSchema is ignored", path: "outputSchema" });
  } else if (config.outputSchema) outputSchema = config.outputSchema;
  else {
    diagnostics.push({
      severity: "warning",
      code: "udf-output-schema",
      message: `declare the fields your ${resolved.form} function returns (outputSchema); until then downstream nodes assume it keeps the input fields`,
      path: "outputSchema",
    });
  }
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics, outputSchema };
  return { diagnostics, resolved, outputSchema };
}
