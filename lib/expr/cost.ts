import type { parse } from "@bufbuild/cel";
import type { FieldType, StreamSchema } from "@/lib/pipeline/schema";
import { isListType } from "@/lib/pipeline/schema";
import { EvalError } from "./errors";

/**
 * What evaluating an expression may cost, in CEL's cost model: one unit per
 * node evaluated; a comprehension (`map`, `filter`, `all`, `exists`,
 * `exists_one`) costs its range, its initial value and its result plus, per
 * element, its condition and step — so nested comprehensions multiply; string
 * and list functions add a tenth of a unit per character or element they
 * traverse (regular expressions and digests one).
 *
 * Two bounds use it (docs/security.md):
 * - **statically**, when an expression is type-checked: the worst case of one
 *   evaluation is estimated from the sizes the expression itself states (list
 *   literals, string literals) and, for lists, maps and strings read from a
 *   record, assumed sizes (ASSUMED_LIST_SIZE elements, ASSUMED_STRING_SIZE
 *   characters). Over EXPRESSION_COST_LIMIT, the expression is refused with a
 *   diagnostic on the node's field — before it can be previewed or deployed;
 * - **at run time**, each evaluation (one record) has RECORD_COST_BUDGET units:
 *   comprehensions charge every iteration and the sized functions what they
 *   traverse, on the actual data. An evaluation that runs out fails that
 *   record (an error record, dead-lettered by a deployment) and stops at once.
 *
 * The run-time meter is one module-level counter: evaluation is synchronous
 * and never nested, so the evaluation that set it is the one charging it.
 * Outside an evaluation it is Infinity, so constant folding at compile time
 * never runs out. Expressions with neither a comprehension nor a sized
 * function never touch it (their cost is bounded by their length).
 */

/** Largest estimated cost per record an expression may have (static check). */
export const EXPRESSION_COST_LIMIT = 1_000_000;
/** Cost units one evaluation (one record) may spend at run time. */
export const RECORD_COST_BUDGET = 1_000_000;
/** Elements assumed in a list or map read from a record (or parsed from JSON) when estimating. */
export const ASSUMED_LIST_SIZE = 100;
/** Characters assumed in a string read from a record when estimating. */
export const ASSUMED_STRING_SIZE = 1_000;
/** Units per character or element a string or list function traverses. */
export const TRAVERSAL_COST = 0.1;
/** Units per character for regular expressions and digests. */
export const SCAN_COST = 1;

export const meter = { left: Infinity };

/** Thrown (as an EvalError: a per-record failure) when an evaluation spends its budget. */
export class CostBudgetError extends EvalError {
  constructor() {
    super(`expression exceeded its cost budget of ${RECORD_COST_BUDGET.toLocaleString("en-US")} units for one record (it iterates over, or builds, more data than an expression may per record)`);
  }
}

export function overBudget(): never {
  throw new CostBudgetError();
}

/** Spends `units` of the current evaluation's budget. */
export function charge(units: number): void {
  if ((meter.left -= units) < 0) overBudget();
}

/**
 * Runs one evaluation with a fresh budget. A budget error swallowed by CEL's
 * error-absorbing && / || still fails the evaluation: running out is not a
 * value, it ends the evaluation (as cel-go's cost limit does).
 */
export function metered<T>(run: () => T): T {
  meter.left = RECORD_COST_BUDGET;
  try {
    const v = run();
    if (meter.left < 0) overBudget();
    return v;
  } finally {
    meter.left = Infinity;
  }
}

type ParsedExpr = ReturnType<typeof parse>;
type Expr = ParsedExpr["expr"];

/** What the estimate knows about a value's size. */
type Size =
  | { k: "scalar" }
  | { k: "string"; n: number }
  | { k: "list"; n: number; elem: Size }
  | { k: "map"; n: number; value: Size; fields?: ReadonlyMap<string, Size> }
  /** JSON of unknown shape (a `json` field, parseJson, dyn). */
  | { k: "any" };

const SCALAR: Size = { k: "scalar" };
const ANY: Size = { k: "any" };

function sizeOfField(t: FieldType): Size {
  if (typeof t === "string") {
    if (t === "string") return { k: "string", n: ASSUMED_STRING_SIZE };
    if (t === "json") return ANY;
    return SCALAR;
  }
  if (isListType(t)) return { k: "list", n: ASSUMED_LIST_SIZE, elem: sizeOfField(t.list) };
  return { k: "map", n: t.struct.length, value: ANY, fields: new Map(t.struct.map((f) => [f.name, sizeOfField(f.type)])) };
}

/** Elements a comprehension over a value of this size iterates. */
function count(s: Size): number {
  if (s.k === "list" || s.k === "map") return s.n;
  return s.k === "any" ? ASSUMED_LIST_SIZE : 0;
}

/** Characters or elements a function traversing the value reads. */
function len(s: Size): number {
  if (s.k === "string" || s.k === "list" || s.k === "map") return s.n;
  return s.k === "any" ? ASSUMED_STRING_SIZE : 1;
}

function elemOf(s: Size): Size {
  if (s.k === "list") return s.elem;
  if (s.k === "map") return { k: "string", n: 64 };
  return ANY;
}

function join(a: Size, b: Size): Size {
  if (a.k === "any" || b.k === "any") return ANY;
  if (a.k === "string" && b.k === "string") return { k: "string", n: Math.max(a.n, b.n) };
  if (a.k === "list" && b.k === "list") return { k: "list", n: Math.max(a.n, b.n), elem: join(a.elem, b.elem) };
  if (a.k === "map" && b.k === "map") return { k: "map", n: Math.max(a.n, b.n), value: join(a.value, b.value) };
  if (a.k === "scalar") return b;
  if (b.k === "scalar") return a;
  return ANY;
}

/** Functions whose cost grows with the size of their first argument (or, for the result-building ones, the result). */
const TRAVERSING = new Set(["size", "contains", "startsWith", "endsWith", "indexOf", "lowerAscii", "upperAscii", "trim", "substring", "split", "parseJson", "toJson", "string"]);
const SCANNING = new Set(["matches", "extract", "regexReplace", "md5", "sha1", "sha256", "hash"]);

interface Estimate {
  cost: number;
  size: Size;
  /** Iteration counts along the costliest chain of nested comprehensions, outermost first. */
  loops: number[];
  /** The outermost comprehension on that chain (for the diagnostic's position). */
  at?: Expr;
}

interface Scope {
  vars: ReadonlyMap<string, Size>;
  /** Accumulators of list-building macros: appending to one is O(1) (compile.ts). */
  appendTo?: string;
}

const costliest = (parts: Estimate[]): Estimate | undefined => parts.reduce<Estimate | undefined>((best, p) => (!best || p.cost > best.cost ? p : best), undefined);

class Estimator {
  private readonly fields: Map<string, Size>;
  constructor(schema: StreamSchema) {
    this.fields = new Map(schema.map((f) => [f.name, sizeOfField(f.type)]));
  }

  walk(e: Expr, scope: Scope): Estimate {
    const k = e.exprKind;
    switch (k.case) {
      case "constExpr": {
        const c = k.value.constantKind;
        if (c.case === "stringValue") return { cost: 1, size: { k: "string", n: c.value.length }, loops: [] };
        if (c.case === "bytesValue") return { cost: 1, size: { k: "string", n: c.value.length }, loops: [] };
        return { cost: 1, size: SCALAR, loops: [] };
      }
      case "identExpr": {
        const name = k.value.name;
        return { cost: 1, size: scope.vars.get(name) ?? this.fields.get(name) ?? ANY, loops: [] };
      }
      case "selectExpr": {
        const operand = k.value.operand ? this.walk(k.value.operand, scope) : { cost: 0, size: ANY, loops: [] };
        const s = operand.size;
        const size = k.value.testOnly ? SCALAR : s.k === "map" ? (s.fields?.get(k.value.field) ?? s.value) : ANY;
        return { ...operand, cost: operand.cost + 1, size };
      }
      case "listExpr": {
        const items = k.value.elements.map((x) => this.walk(x, scope));
        const elem = items.reduce<Size>((a, b) => join(a, b.size), SCALAR);
        return this.sum(items, 1, { k: "list", n: items.length, elem });
      }
      case "structExpr": {
        const parts = k.value.entries.flatMap((en) => [...(en.keyKind.case === "mapKey" ? [this.walk(en.keyKind.value, scope)] : []), ...(en.value ? [this.walk(en.value, scope)] : [])]);
        const value = k.value.entries.reduce<Size>((a, en) => (en.value ? join(a, this.walk(en.value, scope).size) : a), SCALAR);
        return this.sum(parts, 1, { k: "map", n: k.value.entries.length, value });
      }
      case "comprehensionExpr":
        return this.comprehension(e, k.value, scope);
      case "callExpr":
        return this.call(k.value.function, k.value.target, k.value.args, scope);
      default:
        return { cost: 1, size: ANY, loops: [] };
    }
  }

  private sum(parts: Estimate[], own: number, size: Size): Estimate {
    const top = costliest(parts);
    return { cost: parts.reduce((n, p) => n + p.cost, own), size, loops: top?.loops ?? [], at: top?.at };
  }

  private comprehension(e: Expr, c: Extract<Expr["exprKind"], { case: "comprehensionExpr" }>["value"], scope: Scope): Estimate {
    if (!c.iterRange || !c.accuInit || !c.loopCondition || !c.loopStep || !c.result) return { cost: 1, size: ANY, loops: [] };
    const range = this.walk(c.iterRange, scope);
    const init = this.walk(c.accuInit, scope);
    const n = count(range.size);
    const buildsList = c.accuInit.exprKind.case === "listExpr" && c.accuInit.exprKind.value.elements.length === 0;
    const vars = new Map(scope.vars);
    vars.set(c.iterVar, elemOf(range.size));
    vars.set(c.accuVar, init.size);
    const inner: Scope = { vars, appendTo: buildsList ? c.accuVar : undefined };
    const cond = this.walk(c.loopCondition, inner);
    const step = this.walk(c.loopStep, inner);
    vars.set(c.accuVar, buildsList ? { k: "list", n, elem: appendedElement(step.size) } : init.size);
    const result = this.walk(c.result, inner);
    const body = costliest([cond, step]);
    const cost = 1 + range.cost + init.cost + result.cost + n * (cond.cost + step.cost);
    const nested: Estimate = { cost: n * (cond.cost + step.cost), size: SCALAR, loops: [n, ...(body?.loops ?? [])], at: e };
    const top = costliest([range, init, result, nested])!;
    return { cost, size: result.size, loops: top.loops, at: top.at };
  }

  private call(fn: string, target: Expr | undefined, argExprs: Expr[], scope: Scope): Estimate {
    // `accu + [x]` in a map/filter macro appends in place (compile.ts): constant cost.
    if (fn === "_+_" && scope.appendTo && argExprs[0]?.exprKind.case === "identExpr" && argExprs[0].exprKind.value.name === scope.appendTo) {
      const rest = argExprs.slice(1).map((x) => this.walk(x, scope));
      // The size of what is appended (a one-element list): the comprehension sizes its result from it.
      return this.sum(rest, 2, rest[0]?.size ?? ANY);
    }
    const args = [...(target ? [this.walk(target, scope)] : []), ...argExprs.map((x) => this.walk(x, scope))];
    // A namespace (`math.abs`) is not a value.
    if (target?.exprKind.case === "identExpr" && target.exprKind.value.name === "math" && !this.fields.has("math")) args.shift();
    const sizes = args.map((a) => a.size);
    let own = 1;
    let size: Size = SCALAR;
    switch (fn) {
      case "_?_:_": {
        const [c, a, b] = args;
        const branch = costliest([a, b]);
        return { cost: 1 + c.cost + Math.max(a.cost, b.cost), size: join(a.size, b.size), loops: costliest([c, branch!])!.loops, at: costliest([c, branch!])!.at };
      }
      case "_+_": {
        const [a, b] = sizes;
        if (a.k === "string" && b.k === "string") size = { k: "string", n: a.n + b.n };
        else if (a.k === "list" && b.k === "list") size = { k: "list", n: a.n + b.n, elem: join(a.elem, b.elem) };
        else if (a.k === "any" || b.k === "any") size = ANY;
        if (size.k !== "scalar") own += TRAVERSAL_COST * len(size);
        break;
      }
      case "_[_]":
        size = elemOf(sizes[0]);
        if (sizes[0].k === "map" && sizes[0].fields) size = sizes[0].value;
        break;
      case "@in":
        own += len(sizes[1]);
        break;
      case "_==_":
      case "_!=_":
        if (sizes[0].k !== "scalar" && sizes[0].k !== "string") own += len(sizes[0]);
        break;
      case "replace":
      case "regexReplace": {
        const n = len(sizes[0]) * Math.max(1, len(sizes[2] ?? SCALAR));
        size = { k: "string", n };
        own += (fn === "regexReplace" ? SCAN_COST : TRAVERSAL_COST) * n;
        break;
      }
      case "split":
        size = { k: "list", n: len(sizes[0]) + 1, elem: sizes[0] };
        own += TRAVERSAL_COST * len(sizes[0]);
        break;
      case "join": {
        const n = len(sizes[0]) * (len(elemOf(sizes[0])) + len(sizes[1] ?? SCALAR));
        size = { k: "string", n };
        own += TRAVERSAL_COST * n;
        break;
      }
      case "lowerAscii":
      case "upperAscii":
      case "trim":
      case "substring":
        size = sizes[0];
        own += TRAVERSAL_COST * len(sizes[0]);
        break;
      case "parseJson":
        size = ANY;
        own += TRAVERSAL_COST * len(sizes[0]);
        break;
      case "toJson":
      case "string":
        size = { k: "string", n: len(sizes[0]) * (sizes[0].k === "string" ? 1 : 16) };
        own += TRAVERSAL_COST * len(size);
        break;
      case "dyn":
      case "coalesce":
        size = sizes.reduce<Size>((a, b) => join(a, b), SCALAR);
        break;
      case "jsonPath":
        size = ANY;
        break;
      default:
        if (TRAVERSING.has(fn)) own += TRAVERSAL_COST * len(sizes[0] ?? SCALAR);
        else if (SCANNING.has(fn)) own += SCAN_COST * len(sizes[0] ?? SCALAR);
        if (fn === "extract" || fn === "md5" || fn === "sha1" || fn === "sha256") size = { k: "string", n: fn === "extract" ? len(sizes[0]) : 64 };
    }
    return this.sum(args, own, size);
  }
}

/** The element a list-building step appends: `accu + [x]` (map) or `c ? accu + [x] : accu` (filter). */
function appendedElement(step: Size): Size {
  return step.k === "list" ? step.elem : ANY;
}

export interface CostEstimate {
  /** Worst-case units of one evaluation, given the assumed sizes of record data. */
  cost: number;
  /** Iteration counts of the costliest chain of nested comprehensions, outermost first. */
  loops: number[];
  /** The outermost comprehension on that chain. */
  at?: Expr;
}

/** Static estimate of one evaluation's cost over records of `schema` (see the module comment). */
export function estimateCost(parsed: ParsedExpr, schema: StreamSchema): CostEstimate {
  const e = new Estimator(schema).walk(parsed.expr, { vars: new Map() });
  return { cost: Math.ceil(e.cost), loops: e.loops, at: e.at };
}

/**
 * Units a comprehension charges per iteration at run time: the nodes of its
 * condition and step, not counting the iterations of comprehensions nested in
 * them (those charge for themselves). The static estimate counts the same nodes.
 */
export function iterationCost(cond: Expr, step: Expr): number {
  return nodes(cond) + nodes(step);
}

function nodes(e: Expr): number {
  const k = e.exprKind;
  switch (k.case) {
    case "selectExpr":
      return 1 + (k.value.operand ? nodes(k.value.operand) : 0);
    case "callExpr":
      return 1 + (k.value.target ? nodes(k.value.target) : 0) + k.value.args.reduce((n, a) => n + nodes(a), 0);
    case "listExpr":
      return 1 + k.value.elements.reduce((n, a) => n + nodes(a), 0);
    case "structExpr":
      return 1 + k.value.entries.reduce((n, en) => n + (en.keyKind.case === "mapKey" ? nodes(en.keyKind.value) : 0) + (en.value ? nodes(en.value) : 0), 0);
    case "comprehensionExpr": {
      const c = k.value;
      return 1 + (c.iterRange ? nodes(c.iterRange) : 0) + (c.accuInit ? nodes(c.accuInit) : 0) + (c.result ? nodes(c.result) : 0);
    }
    default:
      return 1;
  }
}

/** Whether an expression has a comprehension (a loop whose cost depends on the data). */
export function hasLoop(e: Expr): boolean {
  const k = e.exprKind;
  switch (k.case) {
    case "comprehensionExpr":
      return true;
    case "selectExpr":
      return k.value.operand ? hasLoop(k.value.operand) : false;
    case "callExpr":
      return (k.value.target ? hasLoop(k.value.target) : false) || k.value.args.some(hasLoop);
    case "listExpr":
      return k.value.elements.some(hasLoop);
    case "structExpr":
      return k.value.entries.some((en) => (en.keyKind.case === "mapKey" && hasLoop(en.keyKind.value)) || (en.value ? hasLoop(en.value) : false));
    default:
      return false;
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** The diagnostic for an expression whose estimate is over the limit. */
export function overLimitMessage(estimate: CostEstimate, macro: string | undefined): string {
  const loops = estimate.loops.length ? ` — ${macro ? `${macro}() ` : "it "}iterates ${estimate.loops.map(fmt).join(" × ")} times${estimate.loops.length > 1 ? " (nested loops multiply)" : ""}` : "";
  return (
    `this expression can cost up to ${fmt(estimate.cost)} units per record, over the limit of ${fmt(EXPRESSION_COST_LIMIT)}${loops}. ` +
    `Iterate over fewer elements or avoid nesting (lists and strings read from records count as ${ASSUMED_LIST_SIZE} elements and ${fmt(ASSUMED_STRING_SIZE)} characters).`
  );
}
