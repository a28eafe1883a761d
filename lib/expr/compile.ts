import { parse } from "@bufbuild/cel";
import type { Field, Row, StreamSchema } from "@/lib/pipeline/schema";
import { formatFieldType } from "@/lib/pipeline/schema";
import { iterationCost, meter, overBudget } from "./cost";
import { EvalError, evalError } from "./errors";
import { FUNCTIONS, NAMESPACES, functionNames, type Overload } from "./functions";
import { didYouMeanSuffix } from "./suggest";
import type { CelType } from "./types";
import {
  assignable,
  celTypeOfField,
  describeValue,
  fieldTypeOfCel,
  formatCelType,
  isList,
  isMap,
  isNumeric,
  isStruct,
  iterationType,
  joinTypes,
  runtimeGuard,
} from "./types";

/**
 * Type checker and closure compiler for CEL over a stream schema, in one pass.
 *
 * @bufbuild/cel parses (macros arrive expanded to comprehensions); this module
 * resolves identifiers against the node's input schema, picks overloads by
 * static type, folds constants, and builds a tree of small JS closures. No
 * source text is ever turned into code (no eval/new Function); the closures
 * are what V8 inlines, which is why a checked predicate runs at the speed of a
 * hand-written test instead of an AST interpreter's.
 */
type ParsedExpr = ReturnType<typeof parse>;
type Expr = ParsedExpr["expr"];

/** `vars` holds comprehension variables by slot; empty for most expressions. */
export type Evaluator = (row: Row, vars: unknown[]) => unknown;

export interface ExprDiagnostic {
  severity: "error" | "warning";
  message: string;
  /** Character offsets into the expression text. */
  start: number;
  end: number;
}

export interface Typed {
  type: CelType;
  /** The value may be null at run time (nullable field, null literal, coalesce...). */
  nullable: boolean;
  ev: Evaluator;
  constant?: { value: unknown };
  /**
   * Evaluating this part always fails (a constant call such as `0 % 0`). Not an
   * error by itself: CEL absorbs it in a branch that is never taken (`false ? 0 % 0 : a`)
   * or decided by the other side of && / ||. Only an expression that always
   * fails as a whole is refused (compileExpression).
   */
  fails?: { message: string; at: Expr };
  /** Field path or variable name, for run-time error messages ("user.age is null"). */
  label?: string;
}

/** The first part of `parts` that always fails, if any: strict operations fail with it. */
const failing = (...parts: (Typed | undefined)[]) => parts.find((p) => p?.fails)?.fails;

interface ScopeVar {
  slot: number;
  type: CelType;
}
type Scope = ReadonlyMap<string, ScopeVar>;

/** Functions whose result may be null even for non-null arguments. */
const NULLABLE_RESULTS = new Set(["jsonPath", "parseJson", "extract", "_[_]", "dyn"]);

/**
 * Records are untrusted JSON: a key like "constructor" must read the record's
 * own value (or nothing), never something inherited from Object.prototype.
 */
export function ownValue(o: Row, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

/** Assignment that treats "__proto__" as a plain key instead of replacing the prototype. */
export function setOwn(o: Row, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

const isNullish = (v: unknown) => v === null || v === undefined;

function constant(type: CelType, value: unknown): Typed {
  return { type, nullable: value === null, ev: () => value, constant: { value } };
}

export class ExprCompiler {
  readonly diagnostics: ExprDiagnostic[] = [];
  /** Top-level record fields the expression reads (for lineage and canonical forms). */
  readonly fieldsRead = new Set<string>();
  slots = 0;
  /** The expression has a comprehension or a sized function: each evaluation gets a cost budget (cost.ts). */
  metered = false;
  private readonly fields: Map<string, Field>;

  constructor(
    private readonly parsed: ParsedExpr,
    private readonly source: string,
    schema: StreamSchema,
  ) {
    this.fields = new Map(schema.map((f) => [f.name, f]));
  }

  private at(e: Expr): number {
    return this.parsed.sourceInfo?.positions[String(e.id)] ?? 0;
  }

  private error(e: Expr, message: string, length = 1): Typed {
    const start = this.at(e);
    this.diagnostics.push({ severity: "error", message, start, end: Math.min(this.source.length, start + length) });
    return { type: "dyn", nullable: true, ev: () => evalError(message) };
  }

  /** A part that always fails but does not fail the whole expression: every record that reaches it does. */
  private warnAlwaysFails(f: NonNullable<Typed["fails"]>): void {
    this.warn(f.at, `this part always fails when it is evaluated: ${f.message}`);
  }

  /** The whole expression always fails: refused with the reason at the part that fails. */
  alwaysFails(f: NonNullable<Typed["fails"]>): void {
    this.error(f.at, `this expression always fails: ${f.message}`);
  }

  warn(e: Expr, message: string): void {
    const start = this.at(e);
    this.diagnostics.push({ severity: "warning", message, start, end: Math.min(this.source.length, start + 1) });
  }

  compile(e: Expr, scope: Scope): Typed {
    const k = e.exprKind;
    switch (k.case) {
      case "constExpr":
        return this.constExpr(e, k.value.constantKind);
      case "identExpr":
        return this.ident(e, k.value.name, scope);
      case "selectExpr": {
        if (!k.value.operand) return this.error(e, "malformed field selection");
        return this.select(e, k.value.operand, k.value.field, k.value.testOnly, scope);
      }
      case "callExpr":
        return this.call(e, k.value.function, k.value.target, k.value.args, scope);
      case "listExpr":
        return this.list(k.value.elements, scope);
      case "structExpr": {
        if (k.value.messageName) return this.error(e, `message construction (${k.value.messageName}{...}) is not supported; use a map literal {"key": value}`);
        return this.mapLiteral(e, k.value.entries, scope);
      }
      case "comprehensionExpr":
        return this.comprehension(e, k.value, scope);
      default:
        return this.error(e, "unsupported expression");
    }
  }

  private constExpr(e: Expr, c: Extract<Expr["exprKind"], { case: "constExpr" }>["value"]["constantKind"]): Typed {
    switch (c.case) {
      case "nullValue":
        return constant("null", null);
      case "boolValue":
        return constant("bool", c.value);
      case "int64Value":
      case "uint64Value": {
        const n = Number(c.value);
        if (!Number.isSafeInteger(n)) return this.error(e, `integer literal ${c.value} is beyond ±2^53 and cannot be represented exactly in JSON records`);
        return constant(c.case === "int64Value" ? "int" : "uint", n);
      }
      case "doubleValue":
        return constant("double", c.value);
      case "stringValue":
        return constant("string", c.value);
      case "bytesValue":
        return constant("bytes", c.value);
      default:
        return this.error(e, "unsupported literal");
    }
  }

  private ident(e: Expr, name: string, scope: Scope): Typed {
    const v = scope.get(name);
    if (v) {
      const slot = v.slot;
      return { type: v.type, nullable: true, ev: (_r, vars) => vars[slot], label: name };
    }
    const f = this.fields.get(name);
    if (!f) {
      const known = [...this.fields.keys(), ...scope.keys()].filter((n) => !n.startsWith("@"));
      return this.error(e, `unknown field "${name}"${didYouMeanSuffix(name, known)}`, name.length);
    }
    this.fieldsRead.add(name);
    const inherited = name in Object.prototype;
    return fieldRead(name, celTypeOfField(f.type), f.nullable === true, inherited ? (row) => ownValue(row, name) : (row) => row[name]);
  }

  private select(e: Expr, operandExpr: Expr, field: string, testOnly: boolean, scope: Scope): Typed {
    const operand = this.compile(operandExpr, scope);
    const typed = this.selectFrom(e, operand, field, testOnly);
    const fails = failing(operand);
    return fails && !typed.fails ? { ...typed, fails } : typed;
  }

  private selectFrom(e: Expr, operand: Typed, field: string, testOnly: boolean): Typed {
    const t = operand.type;
    const get = operand.ev;
    if (testOnly) {
      // has(a.b): presence test, never an error on a missing key.
      return {
        type: "bool",
        nullable: false,
        ev: (r, v) => {
          const o = get(r, v);
          return o !== null && typeof o === "object" && !isNullish(ownValue(o as Row, field));
        },
      };
    }
    if (isStruct(t)) {
      const f = t.struct.find((x) => x.name === field);
      if (!f) return this.error(e, `no field "${field}" in ${formatCelType(t)}${didYouMeanSuffix(field, t.struct.map((x) => x.name))}`);
      const path = operand.label ? `${operand.label}.${field}` : field;
      return fieldRead(path, celTypeOfField(f.type), f.nullable === true || operand.nullable, (r, v) => {
        const o = get(r, v);
        if (o === null || typeof o !== "object") return o === null || o === undefined ? undefined : evalError(`cannot read "${field}" of ${describeValue(o)}`);
        return ownValue(o as Row, field);
      });
    }
    if (isMap(t) || t === "dyn") {
      return {
        type: isMap(t) ? t.map : "dyn",
        nullable: true,
        ev: (r, v) => {
          const o = get(r, v);
          if (o === null || typeof o !== "object" || Array.isArray(o)) return evalError(`cannot read "${field}" of ${describeValue(o)}`);
          const x = ownValue(o as Row, field);
          return x === undefined ? evalError(`no such key: "${field}"`) : x;
        },
      };
    }
    return this.error(e, `cannot select field "${field}" from ${formatCelType(t)}`);
  }

  private list(elements: Expr[], scope: Scope): Typed {
    const items = elements.map((x) => this.compile(x, scope));
    let elem: CelType | undefined;
    for (const it of items) elem = elem === undefined ? it.type : joinTypes(elem, it.type);
    const evs = items.map((x) => x.ev);
    const type: CelType = { list: elem ?? "dyn" };
    if (items.every((x) => x.constant)) return constant(type, items.map((x) => x.constant!.value));
    return {
      type,
      nullable: false,
      fails: failing(...items),
      ev: (r, v) => {
        const out = new Array<unknown>(evs.length);
        for (let i = 0; i < evs.length; i++) out[i] = evs[i](r, v);
        return out;
      },
    };
  }

  private mapLiteral(e: Expr, entries: Extract<Expr["exprKind"], { case: "structExpr" }>["value"]["entries"], scope: Scope): Typed {
    const keys: Evaluator[] = [];
    const values: Evaluator[] = [];
    let fails: Typed["fails"];
    let valueType: CelType | undefined;
    for (const en of entries) {
      if (en.keyKind.case !== "mapKey" || !en.value) return this.error(e, "malformed map literal");
      const key = this.compile(en.keyKind.value, scope);
      if (key.type !== "string" && key.type !== "dyn") return this.error(en.keyKind.value, `map keys must be strings (records are JSON objects), got ${formatCelType(key.type)}`);
      const value = this.compile(en.value, scope);
      fails ??= failing(key, value);
      valueType = valueType === undefined ? value.type : joinTypes(valueType, value.type);
      keys.push(key.ev);
      values.push(value.ev);
    }
    return {
      type: { map: valueType ?? "dyn" },
      nullable: false,
      fails,
      ev: (r, v) => {
        const out: Row = {};
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i](r, v);
          if (typeof k !== "string") evalError(`map key must be a string, got ${describeValue(k)}`);
          setOwn(out, k, values[i](r, v));
        }
        return out;
      },
    };
  }

  private comprehension(e: Expr, c: Extract<Expr["exprKind"], { case: "comprehensionExpr" }>["value"], scope: Scope): Typed {
    if (!c.iterRange || !c.accuInit || !c.loopCondition || !c.loopStep || !c.result) return this.error(e, "malformed macro");
    if (c.iterVar2) return this.error(e, "two-variable comprehensions are not supported");
    const range = this.compile(c.iterRange, scope);
    const elemType = iterationType(range.type);
    if (!elemType) return this.error(c.iterRange, `cannot iterate over ${formatCelType(range.type)}`);
    const init = this.compile(c.accuInit, scope);
    const iterSlot = this.slots++;
    const accuSlot = this.slots++;
    const inner = new Map(scope);
    inner.set(c.iterVar, { slot: iterSlot, type: elemType });
    inner.set(c.accuVar, { slot: accuSlot, type: init.type });
    const cond = this.compile(c.loopCondition, inner).ev;
    const step = this.compile(c.loopStep, inner);
    const append = this.appendStep(c, inner);
    inner.set(c.accuVar, { slot: accuSlot, type: joinTypes(init.type, step.type) });
    const result = this.compile(c.result, inner);
    const rangeEv = range.ev;
    const initEv = init.ev;
    const stepEv = step.ev;
    const resultEv = result.ev;
    // Every iteration spends the evaluation's cost budget (cost.ts): nested loops cannot run away.
    this.metered = true;
    const perIteration = iterationCost(c.loopCondition, c.loopStep);
    const iterate = (r: Row, v: unknown[]): unknown[] | undefined => {
      const coll = rangeEv(r, v);
      if (Array.isArray(coll)) return coll;
      if (coll !== null && typeof coll === "object") return Object.keys(coll);
      evalError(`cannot iterate over ${describeValue(coll)}`);
    };
    return {
      type: result.type,
      nullable: result.nullable,
      // The loop body may never run (an empty range); the range, the initial value and the result always do.
      fails: failing(range, init, result),
      ev: append
        ? (r, v) => {
            const items = iterate(r, v)!;
            const out: unknown[] = [];
            v[accuSlot] = out;
            for (let i = 0; i < items.length; i++) {
              v[iterSlot] = items[i];
              if (cond(r, v) !== true) break;
              if ((meter.left -= perIteration) < 0) overBudget();
              append(r, v, out);
            }
            return resultEv(r, v);
          }
        : (r, v) => {
            const items = iterate(r, v)!;
            v[accuSlot] = initEv(r, v);
            for (let i = 0; i < items.length; i++) {
              v[iterSlot] = items[i];
              if (cond(r, v) !== true) break;
              if ((meter.left -= perIteration) < 0) overBudget();
              v[accuSlot] = stepEv(r, v);
            }
            return resultEv(r, v);
          },
    };
  }

  /**
   * The `map` and `filter` macros build their list with `@result + [x]` per
   * element — a copy of the whole list each time, quadratic in its length.
   * When the step has that shape (`@result + [x]`, or `test ? @result + [x] :
   * @result`) and the list starts empty, the loop appends in place instead.
   * The step is compiled as usual first (types, diagnostics); its parts are
   * compiled once more here, with their diagnostics dropped as duplicates.
   */
  private appendStep(c: Extract<Expr["exprKind"], { case: "comprehensionExpr" }>["value"], inner: Scope): ((r: Row, v: unknown[], out: unknown[]) => void) | undefined {
    const init = c.accuInit!.exprKind;
    if (init.case !== "listExpr" || init.value.elements.length !== 0) return undefined;
    const isAccu = (x: Expr | undefined) => x?.exprKind.case === "identExpr" && x.exprKind.value.name === c.accuVar;
    const appended = (x: Expr | undefined): Expr | undefined => {
      if (x?.exprKind.case !== "callExpr" || x.exprKind.value.function !== "_+_" || x.exprKind.value.target) return undefined;
      const [accu, list] = x.exprKind.value.args;
      if (!isAccu(accu) || list?.exprKind.case !== "listExpr" || list.exprKind.value.elements.length !== 1) return undefined;
      return list.exprKind.value.elements[0];
    };
    const step = c.loopStep!;
    let test: Expr | undefined;
    let elem = appended(step);
    if (!elem && step.exprKind.case === "callExpr" && step.exprKind.value.function === "_?_:_") {
      const [t, yes, no] = step.exprKind.value.args;
      elem = isAccu(no) ? appended(yes) : undefined;
      test = elem ? t : undefined;
    }
    if (!elem) return undefined;
    const mark = this.diagnostics.length;
    const elemEv = this.compile(elem, inner).ev;
    const testTyped = test ? this.compile(test, inner) : undefined;
    this.diagnostics.length = mark;
    if (!testTyped) return (r, v, out) => void out.push(elemEv(r, v));
    // As the step's ?: would: a constant condition picks its branch once; otherwise it must be a bool.
    if (testTyped.constant) return testTyped.constant.value === true ? (r, v, out) => void out.push(elemEv(r, v)) : () => undefined;
    const testEv = testTyped.ev;
    return (r, v, out) => {
      const x = testEv(r, v);
      if (x === true) out.push(elemEv(r, v));
      else if (x !== false) evalError(`condition of ?: must be bool, got ${describeValue(x)}`);
    };
  }

  private call(e: Expr, fn: string, targetExpr: Expr | undefined, argExprs: Expr[], scope: Scope): Typed {
    switch (fn) {
      case "_&&_":
      case "_||_":
        return this.logical(e, fn === "_&&_", argExprs, scope);
      case "_?_:_":
        return this.conditional(e, argExprs, scope);
      case "@not_strictly_false": {
        const a = this.compile(argExprs[0], scope).ev;
        return {
          type: "bool",
          nullable: false,
          ev: (r, v) => {
            try {
              return a(r, v) !== false;
            } catch {
              return true;
            }
          },
        };
      }
    }
    const name = fn;
    let all: Expr[] = targetExpr ? [targetExpr, ...argExprs] : argExprs;
    // `math.abs(x)`: a namespace, unless a field of that name shadows it.
    if (targetExpr?.exprKind.case === "identExpr") {
      const ns = targetExpr.exprKind.value.name;
      if (NAMESPACES[ns]?.has(fn) && !this.fields.has(ns) && !scope.has(ns)) all = argExprs;
      else if (NAMESPACES[ns] && !this.fields.has(ns) && !scope.has(ns)) return this.error(e, `unknown function ${ns}.${fn}()${didYouMeanSuffix(fn, NAMESPACES[ns])}`);
    }
    const overloads = FUNCTIONS.get(name);
    if (!overloads) {
      return this.error(e, `unknown function ${fn}()${didYouMeanSuffix(fn, functionNames())}`, fn.length);
    }
    const args = all.map((x) => this.compile(x, scope));
    if (fn === "_==_" || fn === "_!=_") this.checkComparable(e, args);
    return this.invoke(e, name, overloads, args);
  }

  private checkComparable(e: Expr, [a, b]: Typed[]): void {
    if (a.type === "null" || b.type === "null") return;
    // Timestamps and durations are millisecond numbers in records: `ts == 1700000000000` is meaningful.
    const numberLike = (t: CelType) => isNumeric(t) || t === "timestamp" || t === "duration";
    if (numberLike(a.type) && numberLike(b.type)) return;
    if (!assignable(a.type, b.type) && !assignable(b.type, a.type)) {
      this.error(e, `comparing ${formatCelType(a.type)} with ${formatCelType(b.type)} is never equal; convert one side (e.g. string(x) or int(x))`);
    }
  }

  private invoke(e: Expr, name: string, overloads: Overload[], args: Typed[]): Typed {
    const types = args.map((a) => a.type);
    const fits = (o: Overload) => {
      if (o.variadic ? args.length < o.params.length : args.length !== o.params.length) return false;
      return types.every((t, i) => {
        const p = o.params[Math.min(i, o.params.length - 1)];
        return t === "null" ? o.acceptsNull === true : assignable(p, t);
      });
    };
    const candidates = overloads.filter(fits);
    const display = name.replace(/^_(.)_$/, "$1").replace(/^_(..)_$/, "$1").replace(/^@in$/, "in").replace(/^(.)_$/, "$1").replace(/^_\[_\]$/, "[]");
    if (candidates.length === 0) {
      const sigs = overloads.map((o) => `(${o.params.map(formatCelType).join(", ")}${o.variadic ? ", ..." : ""})`);
      return this.error(e, `${display} is not defined for (${types.map(formatCelType).join(", ")}); it accepts ${[...new Set(sigs)].join(" or ")}`);
    }
    for (const o of candidates) {
      if (!o.checkConst) continue;
      args.forEach((a, i) => {
        if (!a.constant) return;
        const msg = o.checkConst!(i, a.constant.value);
        if (msg) this.error(e, msg);
      });
    }
    const staticDispatch = candidates.length === 1 || !types.includes("dyn");
    const chosen = staticDispatch ? [candidates[0]] : candidates;
    if (chosen.some((o) => (typeof o.sized === "function" ? o.sized(types) : o.sized === true))) this.metered = true;
    const resultOf = (o: Overload) => (typeof o.result === "function" ? o.result(types) : o.result);
    const results = chosen.map(resultOf);
    const type = results.every((r) => JSON.stringify(r) === JSON.stringify(results[0])) ? results[0] : "dyn";
    const nullable = name === "coalesce" ? args.every((a) => a.nullable) : NULLABLE_RESULTS.has(name) || type === "dyn";
    const ev = staticDispatch ? this.staticCall(display, chosen[0], args) : this.dynamicCall(display, chosen, args);
    const typed: Typed = { type, nullable, ev, fails: failing(...args) };
    if (args.every((a) => a.constant)) {
      try {
        const value = ev({}, []);
        return { ...typed, nullable: value === null, constant: { value } };
      } catch (err) {
        const message = (err as Error).message;
        return { ...typed, ev: () => evalError(message), fails: { message, at: e } };
      }
    }
    return typed;
  }

  /** One overload known at compile time: guards only where a value may be null or of dynamic type. */
  private staticCall(display: string, o: Overload, args: Typed[]): Evaluator {
    const impl = o.impl;
    const guards = args.map((a, i) => {
      const p = o.params[Math.min(i, o.params.length - 1)];
      const needsType = a.type === "dyn" && p !== "dyn";
      const needsNull = a.nullable && !o.acceptsNull;
      if (!needsType && !needsNull) return undefined;
      const typeOk = needsType ? runtimeGuard(p) : () => true;
      const what = a.label ?? `argument ${i + 1}`;
      return (v: unknown) => {
        if (isNullish(v)) {
          if (o.acceptsNull) return;
          evalError(`${display}: ${what} is null`);
        }
        if (!typeOk(v)) evalError(`${display}: ${what} should be ${formatCelType(p)} but is ${describeValue(v)}`);
      };
    });
    const evs = args.map((a) => a.ev);
    const unguarded = guards.every((g) => g === undefined);
    if (unguarded) {
      if (evs.length === 1) {
        const [a] = evs;
        return (r, v) => impl(a(r, v));
      }
      if (evs.length === 2) {
        const [a, b] = evs;
        return (r, v) => impl(a(r, v), b(r, v));
      }
      if (evs.length === 3) {
        const [a, b, c] = evs;
        return (r, v) => impl(a(r, v), b(r, v), c(r, v));
      }
    }
    if (evs.length === 2) {
      const [a, b] = evs;
      const [ga, gb] = guards;
      return (r, v) => {
        const x = a(r, v);
        const y = b(r, v);
        if (ga) ga(x);
        if (gb) gb(y);
        return impl(x, y);
      };
    }
    return (r, v) => {
      const vals = evs.map((x) => x(r, v));
      for (let i = 0; i < vals.length; i++) guards[i]?.(vals[i]);
      return impl(...vals);
    };
  }

  /** Arguments of type dyn: choose the overload from the run-time values. */
  private dynamicCall(display: string, candidates: Overload[], args: Typed[]): Evaluator {
    const evs = args.map((a) => a.ev);
    const matchers = candidates.map((o) => {
      const guards = args.map((_, i) => runtimeGuard(o.params[Math.min(i, o.params.length - 1)]));
      return (vals: unknown[]) =>
        vals.every((x, i) => (isNullish(x) ? o.acceptsNull === true : guards[i](x)));
    });
    return (r, v) => {
      const vals = evs.map((x) => x(r, v));
      for (let i = 0; i < candidates.length; i++) if (matchers[i](vals)) return candidates[i].impl(...vals);
      return evalError(`${display} is not defined for (${vals.map(describeValue).join(", ")})`);
    };
  }

  private expectBool(x: Typed, e: Expr, what: string): void {
    if (x.type !== "bool" && x.type !== "dyn") this.error(e, `${what} must be a bool, got ${formatCelType(x.type)}`);
  }

  /**
   * CEL's commutative && / ||: an error on one side is absorbed when the other
   * side decides the result (`false && error` is false), so the order users
   * write clauses in never changes which records fail.
   */
  private logical(e: Expr, isAnd: boolean, argExprs: Expr[], scope: Scope): Typed {
    const [a, b] = argExprs.map((x) => this.compile(x, scope));
    this.expectBool(a, argExprs[0], isAnd ? "left side of &&" : "left side of ||");
    this.expectBool(b, argExprs[1], isAnd ? "right side of &&" : "right side of ||");
    const decisive = !isAnd; // || is decided by true, && by false
    if (a.constant?.value === decisive || b.constant?.value === decisive) return constant("bool", decisive);
    if (a.constant && b.constant) return constant("bool", isAnd ? a.constant.value === true && b.constant.value === true : a.constant.value === true || b.constant.value === true);
    if (a.constant?.value === !decisive) return b;
    if (b.constant?.value === !decisive) return a;
    // One side always failing fails the whole only when the other side fails too (or is not decisive, above).
    const fails = a.fails && b.fails ? a.fails : undefined;
    if (!fails) for (const side of [a, b]) if (side.fails) this.warnAlwaysFails(side.fails);
    const fa = a.ev;
    const fb = b.ev;
    const check = (x: unknown) => (typeof x === "boolean" ? x : evalError(`${isAnd ? "&&" : "||"} needs bool operands, got ${describeValue(x)}`));
    const ev: Evaluator = (r, v) => {
      let left: boolean;
      try {
        left = check(fa(r, v));
      } catch (err) {
        if (check(fb(r, v)) === decisive) return decisive;
        throw err;
      }
      if (left === decisive) return decisive;
      return check(fb(r, v));
    };
    return { type: "bool", nullable: false, ev, fails };
  }

  private conditional(e: Expr, argExprs: Expr[], scope: Scope): Typed {
    const [c, a, b] = argExprs.map((x) => this.compile(x, scope));
    this.expectBool(c, argExprs[0], "condition of ?:");
    // A branch that is never taken cannot fail the expression.
    if (c.constant) return c.constant.value === true ? a : b;
    const fails = c.fails ?? (a.fails && b.fails ? a.fails : undefined);
    if (!fails) for (const branch of [a, b]) if (branch.fails) this.warnAlwaysFails(branch.fails);
    const fc = c.ev;
    const fa = a.ev;
    const fb = b.ev;
    return {
      type: joinTypes(a.type, b.type),
      nullable: a.nullable || b.nullable,
      fails,
      ev: (r, v) => {
        const x = fc(r, v);
        if (x === true) return fa(r, v);
        if (x === false) return fb(r, v);
        return evalError(`condition of ?: must be bool, got ${describeValue(x)}`);
      },
    };
  }
}

/** A guarded read: records are untrusted JSON, so the declared type is checked at the point of use. */
function fieldRead(name: string, type: CelType, nullable: boolean, read: Evaluator): Typed {
  const guard = type === "dyn" ? undefined : runtimeGuard(type);
  // Say it in schema terms ("float", "int"), which is what the user declared for the stream.
  const expected = formatFieldType(fieldTypeOfCel(type));
  const ev: Evaluator = (r, v) => {
    const x = read(r, v);
    if (x === undefined || x === null) {
      if (nullable || type === "dyn") return null;
      return evalError(`field "${name}" is missing`);
    }
    if (guard !== undefined && !guard(x)) return evalError(`field "${name}" should be ${expected} but is ${describeValue(x)}`);
    return x;
  };
  return { type, nullable: nullable || type === "dyn", ev, label: name };
}

export { EvalError };
