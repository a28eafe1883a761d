import { compileExpression } from "@/lib/expr";
import { evalError } from "@/lib/expr/errors";
import { describeValue } from "@/lib/expr/types";
import { ELSE_PORT, type SplitNodeConfig } from "@/lib/pipeline/nodes/split";
import type { Row, StreamSchema } from "@/lib/pipeline/schema";
import type { Batch, Built, OpDiagnostic, RecordError } from "./types";
import { exprDiagnostics, reasonOf } from "./types";

export interface SplitOp {
  kind: "split";
  nodeId: string;
  /** Output port names, in config order, then `else` when unmatched records go there. */
  ports: string[];
  /** Index of the `else` port in `ports`, or -1 when unmatched records are dropped. */
  elsePort: number;
  /**
   * Port indexes a record goes to (empty: unmatched and dropped). Throws for a
   * per-record failure, in which case the record goes nowhere.
   */
  route: (row: Row) => number[];
}

const NONE: number[] = [];

export function buildSplit(nodeId: string, config: SplitNodeConfig, input: StreamSchema): Built<SplitOp> {
  const diagnostics: OpDiagnostic[] = [];
  const tests: ((row: Row) => boolean)[] = [];
  const seen = new Set<string>();
  let broken = false;
  config.outputs.forEach((o, i) => {
    if (seen.has(o.name)) {
      diagnostics.push({ severity: "error", code: "duplicate-port", message: `output "${o.name}" is defined twice`, path: `outputs[${i}].name` });
      broken = true;
    }
    seen.add(o.name);
    const compiled = compileExpression(o.condition, input, "bool");
    if (!compiled.ok) {
      diagnostics.push(...exprDiagnostics(`outputs[${i}].condition`, compiled.diagnostics));
      broken = true;
      return;
    }
    diagnostics.push(...exprDiagnostics(`outputs[${i}].condition`, compiled.expr.warnings));
    if (compiled.expr.constant) {
      const always = compiled.expr.constant.value === true;
      diagnostics.push({
        severity: "warning",
        code: "constant-condition",
        message: always
          ? config.mode === "first"
            ? `output "${o.name}" always matches, so no record reaches the outputs after it${config.unmatched === "else" ? " or else" : ""}`
            : `output "${o.name}" always matches and receives every record`
          : `output "${o.name}" never matches and receives no records`,
        path: `outputs[${i}].condition`,
      });
    }
    const evaluate = compiled.expr.evaluate;
    tests.push(
      compiled.expr.type === "bool" && !compiled.expr.nullable
        ? (evaluate as (row: Row) => boolean)
        : (row) => {
            const v = evaluate(row);
            return typeof v === "boolean" ? v : evalError(`condition of "${o.name}" produced ${describeValue(v)}, not a bool`);
          },
    );
  });
  if (broken) return { diagnostics };

  const ports = config.outputs.map((o) => o.name);
  const elsePort = config.unmatched === "else" ? ports.push(ELSE_PORT) - 1 : -1;
  // Precomputed single-port arrays so routing a record allocates nothing in "first" mode.
  const single = ports.map((_, i) => [i]);
  const unmatched = elsePort >= 0 ? single[elsePort] : NONE;
  const n = tests.length;
  const route =
    config.mode === "first"
      ? (row: Row): number[] => {
          for (let i = 0; i < n; i++) if (tests[i](row)) return single[i];
          return unmatched;
        }
      : (row: Row): number[] => {
          // Evaluate every condition first: an error in any of them fails the record as a whole.
          let hits: number[] | undefined;
          for (let i = 0; i < n; i++) if (tests[i](row)) (hits ??= []).push(i);
          return hits ?? unmatched;
        };
  return { diagnostics, op: { kind: "split", nodeId, ports, elsePort, route }, outputSchema: input };
}

export interface SplitResult {
  /** One batch per port, aligned with `op.ports`. */
  outs: Batch[];
  errors: RecordError[];
  /** Unmatched records dropped (no else output). */
  dropped: number;
  /** Records emitted over all ports (greater than the input in "all" mode). */
  emitted: number;
}

/** Batch form of the Split operator. */
export function runSplit(op: SplitOp, batch: Batch): SplitResult {
  const outs: Batch[] = op.ports.map(() => ({ rows: [], metas: [] }));
  const errors: RecordError[] = [];
  let dropped = 0;
  let emitted = 0;
  const { rows, metas } = batch;
  for (let i = 0; i < rows.length; i++) {
    let targets: number[];
    try {
      targets = op.route(rows[i]);
    } catch (e) {
      errors.push({ nodeId: op.nodeId, reason: reasonOf(e), record: rows[i], meta: metas[i] });
      continue;
    }
    if (targets.length === 0) dropped++;
    for (const t of targets) {
      outs[t].rows.push(rows[i]);
      outs[t].metas.push(metas[i]);
      emitted++;
    }
  }
  return { outs, errors, dropped, emitted };
}
