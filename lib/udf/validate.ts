import type { UdfForm } from "@/lib/pipeline/nodes/udf";
import type { OpDiagnostic } from "@/lib/operators/types";
import { UdfCompileError, UdfSandbox } from "./sandbox";

/** Limits for the compile check: the source only has to evaluate to a function. */
const CHECK_LIMITS = { memoryMb: 16, timeoutMs: 200 };

/**
 * Compile check of a UDF source for the validator and the function registry:
 * it must parse and evaluate (in a throwaway isolate, within a small time and
 * memory budget) to a function. Diagnostics use `path` (default
 * "function.inline.source") and carry the line/column in the message.
 */
export async function validateUdfSource(source: string, form: UdfForm, path = "function.inline.source"): Promise<OpDiagnostic[]> {
  if (source.trim() === "") return [{ severity: "error", code: "udf-empty", message: "the function source is empty", path }];
  let sandbox: UdfSandbox | undefined;
  try {
    sandbox = await UdfSandbox.create(source, form, CHECK_LIMITS);
    return [];
  } catch (e) {
    if (e instanceof UdfCompileError) {
      const at = e.line !== undefined ? ` (line ${e.line}, column ${e.column})` : "";
      return [{ severity: "error", code: "udf-compile", message: `${e.message}${at}`, path }];
    }
    return [{ severity: "error", code: "udf-compile", message: `cannot check the function: ${e instanceof Error ? e.message : String(e)}`, path }];
  } finally {
    sandbox?.dispose();
  }
}
