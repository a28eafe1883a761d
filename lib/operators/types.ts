import type { ExprDiagnostic } from "@/lib/expr";
import type { Row, StreamSchema } from "@/lib/pipeline/schema";

/**
 * A batch moving between operators: rows plus, index for index, the opaque
 * `meta` handle the runtime attached at the source (topic/partition/offset and
 * original bytes), so every output and error traces back to its source record.
 */
export interface Batch {
  rows: Row[];
  metas: unknown[];
}

export function emptyBatch(): Batch {
  return { rows: [], metas: [] };
}

/** A record an operator could not process, with the reason; it never becomes an exception. */
export interface RecordError {
  nodeId: string;
  reason: string;
  record: unknown;
  meta?: unknown;
}

/** Per-node counters for reconciliation and the preview (in = out + filtered + errored for stateless nodes). */
export interface NodeCounts {
  in: number;
  out: number;
  filtered: number;
  errored: number;
  /** Window nodes: records beyond allowed lateness, sent to the `late` output. */
  late?: number;
}

export function zeroCounts(): NodeCounts {
  return { in: 0, out: 0, filtered: 0, errored: 0 };
}

/** A configuration problem found while building an operator, relative to the node's config. */
export interface OpDiagnostic {
  severity: "error" | "warning" | "info";
  code: string;
  message: string;
  /** Path inside the config, e.g. "fields[2].expr". */
  path: string;
  range?: { start: number; end: number };
}

/** The result of building an operator from config and input schema: diagnostics always, an operator when usable. */
export interface Built<Op> {
  diagnostics: OpDiagnostic[];
  op?: Op;
  outputSchema?: StreamSchema;
}

export function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function exprDiagnostics(path: string, ds: readonly ExprDiagnostic[], code = "expression"): OpDiagnostic[] {
  return ds.map((d) => ({
    severity: d.severity,
    code: d.message.startsWith("unknown field") ? "unknown-field" : d.message.startsWith("syntax error") ? "syntax-error" : d.message.startsWith("this expression can cost") ? "expression-cost" : code,
    message: d.message,
    path,
    range: { start: d.start, end: d.end },
  }));
}
