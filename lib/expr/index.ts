import { parse, unparse } from "@bufbuild/cel";
import type { Row, StreamSchema } from "@/lib/pipeline/schema";
import { ExprCompiler, type Evaluator, type ExprDiagnostic } from "./compile";
import { estimateCost, EXPRESSION_COST_LIMIT, hasLoop, metered, overLimitMessage } from "./cost";
import type { CelType } from "./types";
import { FUNCTIONS, NAMESPACES, functionCatalog, type FunctionSignature } from "./functions";
import { assignable, formatCelType } from "./types";

export { EvalError } from "./errors";
export { ASSUMED_LIST_SIZE, ASSUMED_STRING_SIZE, CostBudgetError, EXPRESSION_COST_LIMIT, RECORD_COST_BUDGET } from "./cost";
export type { ExprDiagnostic } from "./compile";
export type { CelType } from "./types";
export type { FunctionSignature } from "./functions";
export { celTypeOfField, fieldTypeOfCel, formatCelType } from "./types";

/** Every function an expression can call, with its signatures (expression editor completion and help). */
export function expressionFunctions(): FunctionSignature[] {
  return functionCatalog(formatCelType);
}

/** Longest expression text accepted; longer text is almost certainly generated or pasted by mistake. */
export const MAX_EXPRESSION_LENGTH = 8192;

export interface CompiledExpression {
  source: string;
  type: CelType;
  nullable: boolean;
  /** Evaluates on one record; throws EvalError (or another Error) for a per-record failure. */
  evaluate: (row: Row) => unknown;
  /** Set when the expression does not depend on the record (constant folding). */
  constant?: { value: unknown };
  /** Top-level record fields the expression reads. */
  fieldsRead: string[];
  /** Estimated worst-case cost units of one evaluation (cost.ts); at most EXPRESSION_COST_LIMIT. */
  cost: number;
  warnings: ExprDiagnostic[];
}

export type CompileResult = { ok: true; expr: CompiledExpression } | { ok: false; diagnostics: ExprDiagnostic[] };

type Parsed = ReturnType<typeof parse>;

/** Parses CEL text; syntax errors (and parser stack exhaustion on absurd nesting) become diagnostics. */
export function parseExpression(source: string): { ok: true; parsed: Parsed } | { ok: false; diagnostics: ExprDiagnostic[] } {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    return { ok: false, diagnostics: [{ severity: "error", message: `expression is longer than ${MAX_EXPRESSION_LENGTH} characters`, start: 0, end: 0 }] };
  }
  if (source.trim() === "") return { ok: false, diagnostics: [{ severity: "error", message: "expression is empty", start: 0, end: 0 }] };
  try {
    return { ok: true, parsed: parse(source) };
  } catch (e) {
    const err = e as { rawMessage?: string; message?: string; location?: { start?: { offset?: number } } };
    const start = err.location?.start?.offset ?? 0;
    const message = e instanceof RangeError ? "expression is nested too deeply" : `syntax error: ${err.rawMessage ?? err.message ?? String(e)}`;
    return { ok: false, diagnostics: [{ severity: "error", message, start, end: Math.min(source.length, start + 1) }] };
  }
}

/**
 * Type-checks a CEL expression against an input schema and compiles it to
 * closures. Never throws: every problem is a diagnostic with a character range.
 * `expected` (e.g. "bool" for a Filter predicate) adds a result-type check.
 */
export function compileExpression(source: string, schema: StreamSchema, expected?: CelType): CompileResult {
  const parsed = parseExpression(source);
  if (!parsed.ok) return parsed;
  const compiler = new ExprCompiler(parsed.parsed, source, schema);
  let root;
  try {
    root = compiler.compile(parsed.parsed.expr, new Map());
  } catch (e) {
    // Deep nesting can exhaust the stack in the checker as well as the parser.
    const message = e instanceof RangeError ? "expression is nested too deeply" : `cannot compile expression: ${(e as Error).message}`;
    return { ok: false, diagnostics: [{ severity: "error", message, start: 0, end: source.length }] };
  }
  if (root.fails) compiler.alwaysFails(root.fails);
  if (expected && !assignable(expected, root.type) && root.type !== "null") {
    compiler.diagnostics.push({
      severity: "error",
      message: `expression must produce ${formatCelType(expected)}, but produces ${formatCelType(root.type)}`,
      start: 0,
      end: source.length,
    });
  }
  const estimate = estimateCost(parsed.parsed, schema);
  if (estimate.cost > EXPRESSION_COST_LIMIT && !root.constant) {
    // On the costliest loop when there is one, so the editor underlines what to change.
    const at = estimate.at ? (parsed.parsed.sourceInfo?.positions[String(estimate.at.id)] ?? 0) : 0;
    const macro = estimate.at ? parsed.parsed.sourceInfo?.macroCalls[String(estimate.at.id)] : undefined;
    const name = macro?.exprKind.case === "callExpr" ? macro.exprKind.value.function : undefined;
    const start = estimate.at ? macroStart(source, at, name) : 0;
    compiler.diagnostics.push({ severity: "error", message: overLimitMessage(estimate, name), start, end: estimate.at ? start + (name?.length ?? 1) : source.length });
  }
  const errors = compiler.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) return { ok: false, diagnostics: compiler.diagnostics };
  const ev: Evaluator = root.ev;
  const slots = compiler.slots;
  const empty: unknown[] = [];
  const run = slots === 0 ? (row: Row) => ev(row, empty) : (row: Row) => ev(row, new Array<unknown>(slots));
  // Only expressions with a loop or a sized function pay for the budget (cost.ts).
  const evaluate = compiler.metered ? (row: Row) => metered(() => run(row)) : run;
  return {
    ok: true,
    expr: {
      source,
      type: root.type,
      nullable: root.nullable,
      evaluate,
      constant: root.constant,
      fieldsRead: [...compiler.fieldsRead].sort(),
      cost: Math.min(estimate.cost, EXPRESSION_COST_LIMIT),
      warnings: compiler.diagnostics,
    },
  };
}

/** Start of a macro's name (the parser positions `x.map(…)` at its dot). */
function macroStart(source: string, at: number, name: string | undefined): number {
  if (name && source.startsWith(`.${name}`, at)) return at + 1;
  return at;
}

/** Whether the expression loops over data (a `map`, `filter`, `all`, `exists` or `exists_one` macro). */
export function expressionLoops(source: string): boolean {
  const parsed = parseExpression(source);
  return parsed.ok && hasLoop(parsed.parsed.expr);
}

/**
 * Canonical text of an expression (whitespace, redundant parentheses, literal
 * spelling and call style normalised), used by pipeline canonical hashes.
 * Member and global calls are interchangeable in Sluice (`s.size()` =
 * `size(s)`, `math.abs(x)` = `abs(x)`), so both are written global-style:
 * the same logic must hash the same however it was spelled (the SQL view, for
 * one, has no member calls).
 */
export function canonicalExpression(source: string): string {
  const parsed = parseExpression(source);
  if (!parsed.ok) return source.trim();
  try {
    globalCallStyle(parsed.parsed.expr);
    // Macros (all, map, ...) are unparsed from their original calls, kept beside the expanded tree.
    for (const m of Object.values(parsed.parsed.sourceInfo?.macroCalls ?? {})) globalCallStyle(m);
    return unparse(parsed.parsed);
  } catch {
    return source.trim();
  }
}

type AnyExpr = Parsed["expr"];

/** Rewrites `t.f(a)` into `f(t, a)` (and `math.f(a)` into `f(a)`) for library functions, in place. */
function globalCallStyle(e: AnyExpr | undefined): void {
  if (!e) return;
  const k = e.exprKind;
  switch (k.case) {
    case "callExpr": {
      const call = k.value;
      const target = call.target;
      if (target && FUNCTIONS.has(call.function)) {
        const ns = target.exprKind.case === "identExpr" ? target.exprKind.value.name : undefined;
        if (ns !== undefined && NAMESPACES[ns]?.has(call.function)) call.target = undefined;
        else {
          call.args = [target, ...call.args];
          call.target = undefined;
        }
      }
      globalCallStyle(call.target);
      call.args.forEach(globalCallStyle);
      return;
    }
    case "selectExpr":
      return globalCallStyle(k.value.operand);
    case "listExpr":
      return k.value.elements.forEach(globalCallStyle);
    case "structExpr":
      for (const en of k.value.entries) {
        if (en.keyKind.case === "mapKey") globalCallStyle(en.keyKind.value);
        globalCallStyle(en.value);
      }
      return;
    case "comprehensionExpr": {
      const c = k.value;
      [c.iterRange, c.accuInit, c.loopCondition, c.loopStep, c.result].forEach(globalCallStyle);
      return;
    }
    default:
      return;
  }
}
