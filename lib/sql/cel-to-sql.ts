import { parseExpression } from "@/lib/expr";
import { FUNCTIONS, NAMESPACES } from "@/lib/expr/functions";
import { SQL_NAME_OF_CEL, SQL_TYPE_OF_CAST, CAST_OF_CEL_CONVERSION, sqlIdentifier, sqlString } from "./dialect";

/**
 * CEL → Sluice SQL, for one expression. The output reads back (sql-to-cel.ts)
 * to CEL with the same canonical form, which the round-trip property test
 * holds it to. What SQL cannot say (macros, map literals, `has`) comes back as
 * a reason instead of text.
 */
type Parsed = Extract<ReturnType<typeof parseExpression>, { ok: true }>["parsed"];
type Expr = Parsed["expr"];

export type SqlText = { ok: true; sql: string } | { ok: false; reason: string };

class Unexpressible extends Error {}

// SQL precedence, loosest first.
const P = { or: 1, and: 2, not: 3, cmp: 4, add: 5, mul: 6, unary: 7, primary: 9 } as const;

interface Out {
  text: string;
  prec: number;
}

const BINARY: Record<string, { sql: string; prec: number }> = {
  "_||_": { sql: "OR", prec: P.or },
  "_&&_": { sql: "AND", prec: P.and },
  "_==_": { sql: "=", prec: P.cmp },
  "_!=_": { sql: "<>", prec: P.cmp },
  "_<_": { sql: "<", prec: P.cmp },
  "_<=_": { sql: "<=", prec: P.cmp },
  "_>_": { sql: ">", prec: P.cmp },
  "_>=_": { sql: ">=", prec: P.cmp },
  "_+_": { sql: "+", prec: P.add },
  "_-_": { sql: "-", prec: P.add },
  "_*_": { sql: "*", prec: P.mul },
  "_/_": { sql: "/", prec: P.mul },
  "_%_": { sql: "%", prec: P.mul },
};

const wrap = (o: Out, min: number) => (o.prec < min ? `(${o.text})` : o.text);

function doubleLiteral(v: number): string {
  if (!Number.isFinite(v)) throw new Unexpressible(`the number ${v} has no SQL literal`);
  const s = String(v);
  // A double must read back as a double: 10.0, not 10.
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

function path(e: Expr): string | undefined {
  const k = e.exprKind;
  if (k.case === "identExpr") return sqlIdentifier(k.value.name);
  if (k.case === "selectExpr" && !k.value.testOnly && k.value.operand) {
    const base = path(k.value.operand);
    return base === undefined ? undefined : `${base}.${sqlIdentifier(k.value.field)}`;
  }
  return undefined;
}

function expr(e: Expr): Out {
  const k = e.exprKind;
  switch (k.case) {
    case "constExpr": {
      const c = k.value.constantKind;
      switch (c.case) {
        case "nullValue":
          return { text: "NULL", prec: P.primary };
        case "boolValue":
          return { text: c.value ? "TRUE" : "FALSE", prec: P.primary };
        case "int64Value":
          return { text: String(c.value), prec: c.value < 0n ? P.unary : P.primary };
        case "doubleValue":
          return { text: doubleLiteral(c.value), prec: c.value < 0 ? P.unary : P.primary };
        case "stringValue":
          return { text: sqlString(c.value), prec: P.primary };
        default:
          throw new Unexpressible(`${c.case === "uint64Value" ? "unsigned integer" : c.case === "bytesValue" ? "bytes" : "this"} literals have no SQL form`);
      }
    }
    case "identExpr":
      return { text: sqlIdentifier(k.value.name), prec: P.primary };
    case "selectExpr": {
      if (k.value.testOnly) throw new Unexpressible("has(…) has no SQL form; test the field with IS NOT NULL instead");
      const p = path(e);
      if (p === undefined) throw new Unexpressible(`selecting .${k.value.field} from a computed value has no SQL form; only field paths (a.b.c) do`);
      return { text: p, prec: P.primary };
    }
    case "callExpr":
      return call(k.value.function, k.value.target, k.value.args);
    case "listExpr":
      throw new Unexpressible("list literals have no SQL form outside `x IN (…)`");
    case "structExpr":
      throw new Unexpressible("map literals have no SQL form");
    case "comprehensionExpr":
      throw new Unexpressible("macros (all, exists, exists_one, map, filter) have no SQL form");
    default:
      throw new Unexpressible("this expression has no SQL form");
  }
}

function call(fn: string, target: Expr | undefined, args: Expr[]): Out {
  const bin = BINARY[fn];
  if (bin && args.length === 2) {
    if (bin.prec === P.or || bin.prec === P.and) {
      // Mixed AND/OR always get parentheses: clearer to read, and independent of how a parser ranks them.
      const side = (x: Expr, min: number) => {
        const o = expr(x);
        const logical = o.prec === P.or || o.prec === P.and;
        return logical && o.prec !== bin.prec ? `(${o.text})` : wrap(o, min);
      };
      return { text: `${side(args[0], bin.prec)} ${bin.sql} ${side(args[1], bin.prec + 1)}`, prec: bin.prec };
    }
    // Left-associative: the right operand needs a tighter precedence, so a - (b - c) keeps its parentheses.
    return { text: `${wrap(expr(args[0]), bin.prec)} ${bin.sql} ${wrap(expr(args[1]), bin.prec + 1)}`, prec: bin.prec };
  }
  switch (fn) {
    case "!_": {
      const [a] = args;
      const inner = a.exprKind.case === "callExpr" ? a.exprKind.value : undefined;
      if (inner?.function === "isNull" && !inner.target && inner.args.length === 1) return { text: `${wrap(expr(inner.args[0]), P.add)} IS NOT NULL`, prec: P.cmp };
      return { text: `NOT ${wrap(expr(a), P.unary)}`, prec: P.not };
    }
    case "-_":
      return { text: `-${wrap(expr(args[0]), P.unary)}`, prec: P.unary };
    case "@in": {
      const [x, list] = args;
      if (list.exprKind.case === "listExpr") {
        if (list.exprKind.value.elements.length === 0) throw new Unexpressible("`x in []` has no SQL form (an empty IN list)");
        return { text: `${wrap(expr(x), P.add)} IN (${list.exprKind.value.elements.map((el) => expr(el).text).join(", ")})`, prec: P.cmp };
      }
      return { text: `ARRAY_CONTAINS(${expr(list).text}, ${expr(x).text})`, prec: P.primary };
    }
    case "_[_]": {
      const base = path(args[0]);
      if (base === undefined) throw new Unexpressible("indexing a computed value has no SQL form; only field paths can be indexed (l[0], m['k'])");
      return { text: `${base}[${expr(args[1]).text}]`, prec: P.primary };
    }
    case "_?_:_": {
      const whens: string[] = [];
      let rest: Expr = args[2];
      whens.push(`WHEN ${expr(args[0]).text} THEN ${expr(args[1]).text}`);
      // c1 ? a : c2 ? b : d  →  one CASE with two WHENs (reads back to the same nesting).
      for (;;) {
        const k = rest.exprKind;
        if (k.case !== "callExpr" || k.value.function !== "_?_:_") break;
        whens.push(`WHEN ${expr(k.value.args[0]).text} THEN ${expr(k.value.args[1]).text}`);
        rest = k.value.args[2];
      }
      return { text: `CASE ${whens.join(" ")} ELSE ${expr(rest).text} END`, prec: P.primary };
    }
  }
  if (fn.startsWith("_") || fn.startsWith("@")) throw new Unexpressible(`the operator ${fn} has no SQL form`);
  let all = target ? [target, ...args] : args;
  if (target?.exprKind.case === "identExpr" && NAMESPACES[target.exprKind.value.name]?.has(fn)) all = args;
  if (fn === "isNull" && all.length === 1) return { text: `${wrap(expr(all[0]), P.add)} IS NULL`, prec: P.cmp };
  const cast = CAST_OF_CEL_CONVERSION.get(fn);
  if (cast && all.length === 1) return { text: `CAST(${expr(all[0]).text} AS ${SQL_TYPE_OF_CAST[cast]})`, prec: P.primary };
  const name = FUNCTIONS.has(fn) ? (SQL_NAME_OF_CEL[fn] ?? fn) : fn;
  return { text: `${name}(${all.map((a) => expr(a).text).join(", ")})`, prec: P.primary };
}

/** A CEL expression as Sluice SQL, or why it has no SQL form. */
export function celToSql(cel: string): SqlText {
  const parsed = parseExpression(cel);
  if (!parsed.ok) return { ok: false, reason: `the expression does not parse: ${parsed.diagnostics[0]?.message ?? "syntax error"}` };
  try {
    return { ok: true, sql: expr(parsed.parsed.expr).text };
  } catch (e) {
    if (e instanceof Unexpressible) return { ok: false, reason: e.message };
    if (e instanceof RangeError) return { ok: false, reason: "the expression is nested too deeply" };
    throw e;
  }
}

/** Same, with the expression's own top-level precedence, so a caller can parenthesise (CAST((…) AS T) needs none; NOT needs some). */
export function celToSqlOperand(cel: string): { ok: true; sql: string; primary: boolean } | { ok: false; reason: string } {
  const parsed = parseExpression(cel);
  if (!parsed.ok) return { ok: false, reason: `the expression does not parse: ${parsed.diagnostics[0]?.message ?? "syntax error"}` };
  try {
    const o = expr(parsed.parsed.expr);
    return { ok: true, sql: o.text, primary: o.prec === P.primary };
  } catch (e) {
    if (e instanceof Unexpressible) return { ok: false, reason: e.message };
    if (e instanceof RangeError) return { ok: false, reason: "the expression is nested too deeply" };
    throw e;
  }
}
