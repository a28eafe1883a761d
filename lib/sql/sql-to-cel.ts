import { FUNCTIONS } from "@/lib/expr/functions";
import { CAST_OF_SQL_TYPE, CEL_CONVERSION_OF_CAST, CEL_NAME_OF_SQL } from "./dialect";
import { SqlError, type SqlNode, type Span, spanOf } from "./ast";

/**
 * Sluice SQL expression (node-sql-parser AST) → CEL text. Besides the text it
 * records which CEL characters came from which SQL span, so a validator
 * diagnostic with a range inside the CEL (an unknown field, a type error) can
 * be shown at the SQL line and column it came from.
 */
export interface CelSegment {
  /** Range in the CEL text. */
  start: number;
  end: number;
  /** Where it came from in the SQL text. */
  span: Span;
}

export interface CelText {
  cel: string;
  segments: CelSegment[];
}

// CEL precedence, loosest first.
const P = { cond: 1, or: 2, and: 3, rel: 4, add: 5, mul: 6, unary: 7, primary: 9 } as const;

const BINARY: Record<string, { cel: string; prec: number }> = {
  OR: { cel: "||", prec: P.or },
  AND: { cel: "&&", prec: P.and },
  "=": { cel: "==", prec: P.rel },
  "==": { cel: "==", prec: P.rel },
  "<>": { cel: "!=", prec: P.rel },
  "!=": { cel: "!=", prec: P.rel },
  "<": { cel: "<", prec: P.rel },
  "<=": { cel: "<=", prec: P.rel },
  ">": { cel: ">", prec: P.rel },
  ">=": { cel: ">=", prec: P.rel },
  "+": { cel: "+", prec: P.add },
  "-": { cel: "-", prec: P.add },
  // Sluice's + also joins strings, so || is the same operator.
  "||": { cel: "+", prec: P.add },
  "*": { cel: "*", prec: P.mul },
  "/": { cel: "/", prec: P.mul },
  "%": { cel: "%", prec: P.mul },
};

/** The CEL precedence an SQL node will be written at (decided before writing, so parentheses go in first). */
function precOf(n: SqlNode): number {
  switch (n.type) {
    case "binary_expr": {
      const op = String(n.operator).toUpperCase();
      if (BINARY[op]) return BINARY[op].prec;
      if (op === "BETWEEN" || op === "NOT BETWEEN") return P.and;
      if (op === "NOT IN" || op === "NOT LIKE") return P.unary;
      if (op === "IS NOT") return P.unary;
      return P.rel; // IN, LIKE, IS
    }
    case "unary_expr":
      return P.unary;
    case "case":
      return P.cond;
    case "number":
    case "bigint":
      return typeof n.value === "number" ? (n.value < 0 ? P.unary : P.primary) : String(n.value).startsWith("-") ? P.unary : P.primary;
    case "function":
      return functionName(n).toUpperCase() === "NOT" ? P.unary : functionName(n).toUpperCase() === "ARRAY_CONTAINS" ? P.rel : P.primary;
    default:
      return P.primary;
  }
}

export function functionName(n: SqlNode): string {
  // The grammar spells names several ways: "f", {name: [{value}]}, {schema, name}…
  const name = n?.name as unknown;
  const part = (v: unknown): string => (typeof v === "string" ? v : v && typeof v === "object" && "value" in v ? String((v as { value: unknown }).value) : "");
  if (typeof name === "string") return name;
  if (name && typeof name === "object") {
    const o = name as { name?: unknown; schema?: unknown };
    const parts = Array.isArray(o.name) ? o.name.map(part) : [part(o.name)];
    return [part(o.schema), ...parts].filter(Boolean).join(".");
  }
  return "";
}

const celFunctionsByLowerName = new Map([...FUNCTIONS.keys()].filter((k) => /^[a-z]/i.test(k)).map((k) => [k.toLowerCase(), k]));

/** The CEL name an SQL function call means: a standard SQL spelling, or a Sluice function by its own name (any case). */
export function celFunctionName(sqlName: string): string {
  return CEL_NAME_OF_SQL.get(sqlName.toUpperCase()) ?? celFunctionsByLowerName.get(sqlName.toLowerCase()) ?? sqlName;
}

/** Field path segments of a column reference (`a`, `a.b`, `a.b.c`, …), whatever shape the parser gave it. */
export function columnPath(n: SqlNode): string[] | undefined {
  if (n.type === "double_quote_string" || n.type === "backticks_quote_string") return [String(n.value)];
  if (n.type !== "column_ref") return undefined;
  const seg = (v: unknown): string[] | undefined => {
    if (v === null || v === undefined) return [];
    if (typeof v === "string") return [v];
    const o = v as SqlNode;
    if (o.expr) return seg(o.expr);
    if (o.type === "binary_expr" && o.operator === ".") {
      const l = seg(o.left);
      const r = seg(o.right);
      return l && r ? [...l, ...r] : undefined;
    }
    if (typeof o.value === "string") return [o.value];
    return undefined;
  };
  const parts = [...(seg(n.schema) ?? []), ...(seg(n.table) ?? []), ...(seg(n.column) ?? [])];
  return parts.length ? parts : undefined;
}

/** The value of an SQL string literal: '' is a quote; backslashes are plain characters (ANSI). */
export function stringValue(n: SqlNode): string | undefined {
  if (n.type !== "single_quote_string" && n.type !== "string") return undefined;
  return String(n.value).replace(/''/g, "'");
}

const LIKE_SPECIAL = /[.*+?^${}()|[\]\\]/g;

/** A LIKE pattern as an anchored RE2 regex: % any run, _ one character. */
function likeRegex(pattern: string): string {
  let out = "^";
  for (const ch of pattern) out += ch === "%" ? ".*" : ch === "_" ? "." : ch.replace(LIKE_SPECIAL, "\\$&");
  return out + "$";
}

class Writer {
  text = "";
  segments: CelSegment[] = [];
  constructor(private readonly source: string) {}

  write(s: string): void {
    this.text += s;
  }

  expr(n: SqlNode, min: number): void {
    const start = this.text.length;
    const paren = precOf(n) < min || n.parentheses === true && precOf(n) < P.primary && min > P.cond;
    if (paren) this.write("(");
    this.node(n);
    if (paren) this.write(")");
    const span = spanOf(n);
    if (span) this.segments.push({ start, end: this.text.length, span });
  }

  private fail(n: SqlNode, message: string): never {
    throw new SqlError(message, spanOf(n));
  }

  private list(items: SqlNode[]): void {
    items.forEach((x, i) => {
      if (i) this.write(", ");
      this.expr(x, P.cond);
    });
  }

  private node(n: SqlNode): void {
    switch (n.type) {
      case "column_ref": {
        if (n.column === "*" || n.column?.expr?.value === "*") this.fail(n, "`*` is only allowed as a whole select item (SELECT * or SELECT *, …)");
        const p = columnPath(n);
        if (!p) this.fail(n, "this column reference is not a field path");
        this.write(p.join("."));
        for (const ix of (n.array_index ?? []) as { index: SqlNode }[]) {
          this.write("[");
          this.expr(ix.index, P.cond);
          this.write("]");
        }
        return;
      }
      case "double_quote_string":
      case "backticks_quote_string":
        return this.write(String(n.value));
      case "number":
      case "bigint":
        return this.write(String(n.value));
      case "single_quote_string":
      case "string":
        return this.write(JSON.stringify(stringValue(n)));
      case "bool":
        return this.write(n.value ? "true" : "false");
      case "null":
        return this.write("null");
      case "unary_expr": {
        const op = String(n.operator).toUpperCase();
        if (op === "NOT" || op === "!") {
          this.write("!");
          return this.expr(n.expr, P.unary);
        }
        if (op === "-") {
          this.write("-");
          return this.expr(n.expr, P.unary);
        }
        if (op === "+") return this.expr(n.expr, P.unary);
        return this.fail(n, `the operator ${op} is not supported`);
      }
      case "binary_expr":
        return this.binary(n);
      case "case":
        return this.caseExpr(n);
      case "cast": {
        const target = castTarget(n);
        if (!target) this.fail(n, `CAST to ${castTypeName(n)} is not supported: use VARCHAR, BIGINT, DOUBLE, BOOLEAN or TIMESTAMP`);
        const conv = target === "json" ? "dyn" : CEL_CONVERSION_OF_CAST[target]!;
        this.write(`${conv}(`);
        this.expr(n.expr, P.cond);
        return this.write(")");
      }
      case "interval": {
        const value = stringValue(n.expr) ?? String(n.expr?.value ?? "");
        const ms = intervalMs(value, String(n.unit));
        if (ms === undefined) this.fail(n, `INTERVAL '${value}' ${String(n.unit).toUpperCase()} is not a whole number of milliseconds in SECOND, MINUTE, HOUR or DAY`);
        return this.write(`duration(${JSON.stringify(`${ms}ms`)})`);
      }
      case "function":
        return this.call(n);
      case "aggr_func":
        return this.fail(n, `the aggregate ${String(n.name).toUpperCase()} needs a window: FROM TABLE(TUMBLE(…)) … GROUP BY …`);
      case "expr_list":
        return this.fail(n, "a parenthesised list is only allowed after IN");
      default:
        return this.fail(n, `${String(n.type ?? "this construct").replace(/_/g, " ")} is not supported in Sluice SQL expressions`);
    }
  }

  private binary(raw: SqlNode): void {
    const n = String(raw.operator).toUpperCase() === "AND" || String(raw.operator).toUpperCase() === "OR" ? reassociate(raw) : raw;
    const op = String(n.operator).toUpperCase();
    const bin = BINARY[op];
    if (bin) {
      this.expr(n.left, bin.prec);
      this.write(` ${bin.cel} `);
      return this.expr(n.right, bin.prec + 1);
    }
    switch (op) {
      case "IN":
      case "NOT IN": {
        if (n.right?.type !== "expr_list") this.fail(n, "IN needs a list of values: x IN (1, 2, 3)");
        if (op === "NOT IN") this.write("!(");
        this.expr(n.left, P.add);
        this.write(" in [");
        this.list(n.right.value as SqlNode[]);
        this.write("]");
        if (op === "NOT IN") this.write(")");
        return;
      }
      case "LIKE":
      case "NOT LIKE": {
        const pattern = stringValue(n.right);
        if (pattern === undefined) this.fail(n.right, "LIKE needs a constant pattern: s LIKE 'abc%'");
        this.write(op === "LIKE" ? "matches(" : "!matches(");
        this.expr(n.left, P.cond);
        return this.write(`, ${JSON.stringify(likeRegex(pattern))})`);
      }
      case "BETWEEN":
      case "NOT BETWEEN": {
        const [lo, hi] = (n.right?.value ?? []) as SqlNode[];
        if (op === "NOT BETWEEN") this.write("!(");
        this.expr(n.left, P.add);
        this.write(" >= ");
        this.expr(lo, P.add);
        this.write(" && ");
        this.expr(n.left, P.add);
        this.write(" <= ");
        this.expr(hi, P.add);
        if (op === "NOT BETWEEN") this.write(")");
        return;
      }
      case "IS":
      case "IS NOT": {
        if (n.right?.type !== "null") this.fail(n, `${op} is only supported with NULL (x IS NULL, x IS NOT NULL)`);
        this.write(op === "IS" ? "isNull(" : "!isNull(");
        this.expr(n.left, P.cond);
        return this.write(")");
      }
      default:
        return this.fail(n, `the operator ${op} is not supported in Sluice SQL`);
    }
  }

  private caseExpr(n: SqlNode): void {
    const args = (n.args ?? []) as SqlNode[];
    const whens = args.filter((a) => a.type === "when");
    const otherwise = args.find((a) => a.type === "else");
    whens.forEach((w) => {
      if (n.expr) {
        // Simple CASE x WHEN v: compare.
        this.expr(n.expr, P.add);
        this.write(" == ");
        this.expr(w.cond, P.add);
      } else this.expr(w.cond, P.or);
      this.write(" ? ");
      this.expr(w.result, P.or);
      this.write(" : ");
    });
    if (otherwise) this.expr(otherwise.result, P.cond);
    else this.write("null");
  }

  private call(n: SqlNode): void {
    const name = functionName(n);
    const args = (n.args?.value ?? []) as SqlNode[];
    const upper = name.toUpperCase();
    if (upper === "NOT" && args.length === 1) {
      this.write("!");
      return this.expr(args[0], P.unary);
    }
    if (upper === "ARRAY_CONTAINS" && args.length === 2) {
      this.expr(args[1], P.add);
      this.write(" in ");
      return this.expr(args[0], P.add);
    }
    if (args.some((a) => a.type === "column_ref" && (a.column === "*" || a.column?.expr?.value === "*"))) {
      this.fail(n, `${name}(*) is a call of a registered function: write it as a table function, SELECT * FROM TABLE(${name}(input))`);
    }
    this.write(`${celFunctionName(name)}(`);
    this.list(args);
    this.write(")");
  }

  done(): CelText {
    return { cel: this.text, segments: this.segments };
  }

  get sql(): string {
    return this.source;
  }
}

const isLogical = (n: SqlNode) => n?.type === "binary_expr" && (upper(n.operator) === "AND" || upper(n.operator) === "OR");
const upper = (s: unknown) => String(s ?? "").toUpperCase();

/**
 * node-sql-parser's Trino grammar gives AND and OR the same precedence and
 * groups them to the right (`a AND b OR c` arrives as a AND (b OR c)). SQL
 * binds AND tighter and both group to the left, so an unparenthesised chain is
 * flattened and rebuilt: (a AND b) OR c. Parenthesised parts stay as written.
 */
function reassociate(n: SqlNode): SqlNode {
  const operands: SqlNode[] = [];
  const ops: string[] = [];
  let cur: SqlNode = n;
  for (;;) {
    operands.push(cur.left);
    ops.push(upper(cur.operator));
    const right = cur.right as SqlNode;
    if (isLogical(right) && !right.parentheses) cur = right;
    else {
      operands.push(right);
      break;
    }
  }
  const join = (op: string, a: SqlNode, b: SqlNode): SqlNode => {
    const sa = spanLoc(a);
    const sb = spanLoc(b);
    return { type: "binary_expr", operator: op, left: a, right: b, ...(sa && sb ? { loc: { start: sa.start, end: sb.end } } : {}) };
  };
  const groups: SqlNode[] = [];
  let acc = operands[0];
  ops.forEach((op, i) => {
    if (op === "AND") acc = join("AND", acc, operands[i + 1]);
    else {
      groups.push(acc);
      acc = operands[i + 1];
    }
  });
  groups.push(acc);
  const root = groups.slice(1).reduce((a, b) => join("OR", a, b), groups[0]);
  return { ...root, parentheses: n.parentheses, loc: n.loc ?? root.loc };
}

function spanLoc(n: SqlNode): { start: unknown; end: unknown } | undefined {
  return n?.loc as { start: unknown; end: unknown } | undefined;
}

export function castTypeName(n: SqlNode): string {
  const t = (n.target as { dataType?: string }[] | undefined)?.[0]?.dataType ?? "";
  return String(t).toUpperCase();
}

export function castTarget(n: SqlNode) {
  return CAST_OF_SQL_TYPE.get(castTypeName(n).replace(/\(.*$/, "").trim());
}

function intervalMs(value: string, unit: string): number | undefined {
  const size: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
  const u = size[unit.toLowerCase()];
  if (!u || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined;
  const ms = Math.round(Number(value) * u);
  return Math.abs(ms - Number(value) * u) < 1e-6 ? ms : undefined;
}

/** Translates one SQL expression to CEL; throws SqlError (with the SQL span) for what Sluice SQL does not support. */
export function sqlToCel(n: SqlNode, source: string): CelText {
  const w = new Writer(source);
  try {
    w.expr(n, P.cond);
  } catch (e) {
    if (e instanceof RangeError) throw new SqlError("the expression is nested too deeply", spanOf(n));
    throw e;
  }
  return w.done();
}
