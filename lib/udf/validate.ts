import ivm from "isolated-vm";
import type { UdfForm } from "@/lib/pipeline/nodes/udf";
import type { OpDiagnostic } from "@/lib/operators/types";

/** Limits for the compile check: the source only has to evaluate to a function. */
const CHECK_MEMORY_MB = 16;
const CHECK_TIMEOUT_MS = 200;

/**
 * Compile check of a UDF source for the validator and the function registry:
 * it must parse and evaluate — in a throwaway isolate, within a small time and
 * memory budget — to a function. Synchronous (isolated-vm's sync API) so the
 * pipeline validator can call it inline; a check costs a few milliseconds.
 */
export function validateUdfSource(source: string, form: UdfForm, path = "function.inline.source"): OpDiagnostic[] {
  const diag = (message: string): OpDiagnostic[] => [{ severity: "error", code: "udf-compile", message, path }];
  if (source.trim() === "") return diag("the function source is empty");
  const isolate = new ivm.Isolate({ memoryLimit: CHECK_MEMORY_MB });
  try {
    const context = isolate.createContextSync();
    let script: ivm.Script;
    try {
      script = isolate.compileScriptSync(`(\n${source}\n)`, { filename: "udf.js" });
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      const m = /\[udf\.js:(\d+):(\d+)\]$/.exec(text);
      const at = m ? ` (line ${Math.max(1, Number(m[1]) - 1)}, column ${m[2]})` : "";
      return diag(`syntax error: ${text.replace(/\s*\[udf\.js:\d+:\d+\]$/, "")}${at}`);
    }
    let kind: unknown;
    try {
      const value = script.runSync(context, { timeout: CHECK_TIMEOUT_MS, reference: true });
      kind = value.typeof;
      value.release();
    } catch (e) {
      if (isolate.isDisposed) return diag(`evaluating the source exhausted ${CHECK_MEMORY_MB} MB of memory`);
      const text = e instanceof Error ? e.message : String(e);
      return diag(/timed out/i.test(text) ? `evaluating the source took longer than ${CHECK_TIMEOUT_MS} ms` : `evaluating the source failed: ${text}`);
    }
    if (kind !== "function") return diag(`the source must be a function expression, like (r) => ({ ...r }), but it is ${String(kind)}`);
    void form;
    return [];
  } finally {
    if (!isolate.isDisposed) isolate.dispose();
  }
}
