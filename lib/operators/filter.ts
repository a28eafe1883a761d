import { compileExpression } from "@/lib/expr";
import type { FilterNodeConfig } from "@/lib/pipeline/nodes/filter";
import type { Row, StreamSchema } from "@/lib/pipeline/schema";
import { evalError } from "@/lib/expr/errors";
import { describeValue } from "@/lib/expr/types";
import type { Batch, Built, RecordError } from "./types";
import { exprDiagnostics, reasonOf } from "./types";

export interface FilterOp {
  kind: "filter";
  nodeId: string;
  /** True keeps the record; throws for a per-record failure (becomes an error record). */
  test: (row: Row) => boolean;
}

export function buildFilter(nodeId: string, config: FilterNodeConfig, input: StreamSchema): Built<FilterOp> {
  const compiled = compileExpression(config.predicate, input, "bool");
  if (!compiled.ok) return { diagnostics: exprDiagnostics("predicate", compiled.diagnostics) };
  const { expr } = compiled;
  const diagnostics = exprDiagnostics("predicate", expr.warnings);
  if (expr.constant) {
    const keeps = expr.constant.value === true;
    diagnostics.push({
      severity: "warning",
      code: "constant-predicate",
      message: keeps
        ? "this predicate is always true, so the filter keeps every record"
        : "this predicate is always false, so the filter drops every record",
      path: "predicate",
    });
  }
  const evaluate = expr.evaluate;
  // A statically bool predicate on non-null inputs needs no result check; dyn/nullable results do.
  const test =
    expr.type === "bool" && !expr.nullable
      ? (evaluate as (row: Row) => boolean)
      : (row: Row): boolean => {
          const v = evaluate(row);
          return typeof v === "boolean" ? v : evalError(`predicate produced ${describeValue(v)}, not a bool`);
        };
  return { diagnostics, op: { kind: "filter", nodeId, test }, outputSchema: input };
}

export interface FilterResult {
  out: Batch;
  errors: RecordError[];
  filtered: number;
}

/** Batch form of the Filter operator (the plan fuses the same `test` into chains). */
export function runFilter(op: FilterOp, batch: Batch): FilterResult {
  const out: Batch = { rows: [], metas: [] };
  const errors: RecordError[] = [];
  let filtered = 0;
  const { rows, metas } = batch;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    let keep: boolean;
    try {
      keep = op.test(row);
    } catch (e) {
      errors.push({ nodeId: op.nodeId, reason: reasonOf(e), record: row, meta: metas[i] });
      continue;
    }
    if (keep) {
      out.rows.push(row);
      out.metas.push(metas[i]);
    } else filtered++;
  }
  return { out, errors, filtered };
}
