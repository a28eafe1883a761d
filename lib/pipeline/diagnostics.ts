/**
 * Validation output: every problem is data attached to a node (and a field path
 * inside its config), so the canvas can draw it on the node that has it. The
 * validator never throws for a bad pipeline.
 */
export type Severity = "error" | "warning" | "info";

export interface Diagnostic {
  severity: Severity;
  /** Stable machine-readable code, e.g. "unknown-field", "cycle", "union-schema-mismatch". */
  code: string;
  message: string;
  nodeId?: string;
  edgeId?: string;
  /** Path inside the node (e.g. "config.fields[2].expr") or the pipeline ("edges[3]"). */
  path: string;
  /** Character range inside an expression, when the problem is in CEL text. */
  range?: { start: number; end: number };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Formats a zod-style path (["config", "fields", 2, "expr"]) as "config.fields[2].expr". */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}
