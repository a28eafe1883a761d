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

/**
 * Walks a CEL AST and writes SQL. Operators, literals, paths, IN and CASE are
 * the same in every SQL this module writes; identifiers, function calls, `+`
 * and indexing are methods, so the Flink export (flink.ts) can write its own.
 */
export class CelSqlWriter {
  constructor(protected readonly parsed: Parsed) {}

  protected ident(name: string): string {
    return sqlIdentifier(name);
  }

  protected path(e: Expr): string | undefined {
    const k = e.exprKind;
    if (k.case === "identExpr") return this.ident(k.value.name);
    if (k.case === "selectExpr" && !k.value.testOnly && k.value.operand) {
      const base = this.path(k.value.operand);
      return base === undefined ? undefined : `${base}.${this.ident(k.value.field)}`;
    }
    return undefined;
  }

  /** `a + b`: Sluice SQL's + also joins strings, as in CEL. */
  protected plus(a: Expr, b: Expr): Out {
    return { text: `${wrap(this.expr(a), P.add)} + ${wrap(this.expr(b), P.add + 1)}`, prec: P.add };
  }

  /** `l[i]` on a field path. */
  protected index(base: string, index: Expr): Out {
    return { text: `${base}[${this.expr(index).text}]`, prec: P.primary };
  }

  /** A library function call, arguments global-style (the receiver first). */
  protected func(fn: string, all: Expr[]): Out {
    if (fn === "isNull" && all.length === 1) return { text: `${wrap(this.expr(all[0]), P.add)} IS NULL`, prec: P.cmp };
    const cast = CAST_OF_CEL_CONVERSION.get(fn);
    if (cast && all.length === 1) return { text: `CAST(${this.expr(all[0]).text} AS ${SQL_TYPE_OF_CAST[cast]})`, prec: P.primary };
    const name = FUNCTIONS.has(fn) ? (SQL_NAME_OF_CEL[fn] ?? fn) : fn;
    return { text: `${name}(${all.map((a) => this.expr(a).text).join(", ")})`, prec: P.primary };
  }

  protected fail(message: string): never {
    throw new Unexpressible(message);
  }

  expr(e: Expr): Out {
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
            return this.fail(`${c.case === "uint64Value" ? "unsigned integer" : c.case === "bytesValue" ? "bytes" : "this"} literals have no SQL form`);
        }
      }
      case "identExpr":
        return { text: this.ident(k.value.name), prec: P.primary };
      case "selectExpr": {
        if (k.value.testOnly) this.fail("has(…) has no SQL form; test the field with IS NOT NULL instead");
        const p = this.path(e);
        if (p === undefined) this.fail(`selecting .${k.value.field} from a computed value has no SQL form; only field paths (a.b.c) do`);
        return { text: p, prec: P.primary };
      }
      case "callExpr":
        return this.call(k.value.function, k.value.target, k.value.args);
      case "listExpr":
        return this.fail("list literals have no SQL form outside `x IN (…)`");
      case "structExpr":
        return this.fail("map literals have no SQL form");
      case "comprehensionExpr":
        return this.fail("macros (all, exists, exists_one, map, filter) have no SQL form");
      default:
        return this.fail("this expression has no SQL form");
    }
  }

  protected call(fn: string, target: Expr | undefined, args: Expr[]): Out {
    const bin = BINARY[fn];
    if (fn === "_+_" && args.length === 2) return this.plus(args[0], args[1]);
    if (bin && args.length === 2) {
      if (bin.prec === P.or || bin.prec === P.and) {
        // Mixed AND/OR always get parentheses: clearer to read, and independent of how a parser ranks them.
        const side = (x: Expr, min: number) => {
          const o = this.expr(x);
          const logical = o.prec === P.or || o.prec === P.and;
          return logical && o.prec !== bin.prec ? `(${o.text})` : wrap(o, min);
        };
        return { text: `${side(args[0], bin.prec)} ${bin.sql} ${side(args[1], bin.prec + 1)}`, prec: bin.prec };
      }
      // Left-associative: the right operand needs a tighter precedence, so a - (b - c) keeps its parentheses.
      return { text: `${wrap(this.expr(args[0]), bin.prec)} ${bin.sql} ${wrap(this.expr(args[1]), bin.prec + 1)}`, prec: bin.prec };
    }
    switch (fn) {
      case "!_": {
        const [a] = args;
        const inner = a.exprKind.case === "callExpr" ? a.exprKind.value : undefined;
        if (inner?.function === "isNull" && !inner.target && inner.args.length === 1) return { text: `${wrap(this.expr(inner.args[0]), P.add)} IS NOT NULL`, prec: P.cmp };
        return { text: `NOT ${wrap(this.expr(a), P.unary)}`, prec: P.not };
      }
      case "-_":
        return { text: `-${wrap(this.expr(args[0]), P.unary)}`, prec: P.unary };
      case "@in": {
        const [x, list] = args;
        if (list.exprKind.case === "listExpr") {
          if (list.exprKind.value.elements.length === 0) this.fail("`x in []` has no SQL form (an empty IN list)");
          return { text: `${wrap(this.expr(x), P.add)} IN (${list.exprKind.value.elements.map((el) => this.expr(el).text).join(", ")})`, prec: P.cmp };
        }
        return { text: `ARRAY_CONTAINS(${this.expr(list).text}, ${this.expr(x).text})`, prec: P.primary };
      }
      case "_[_]": {
        const base = this.path(args[0]);
        if (base === undefined) this.fail("indexing a computed value has no SQL form; only field paths can be indexed (l[0], m['k'])");
        return this.index(base, args[1]);
      }
      case "_?_:_": {
        const whens: string[] = [];
        let rest: Expr = args[2];
        whens.push(`WHEN ${this.expr(args[0]).text} THEN ${this.expr(args[1]).text}`);
        // c1 ? a : c2 ? b : d  →  one CASE with two WHENs (reads back to the same nesting).
        for (;;) {
          const k = rest.exprKind;
          if (k.case !== "callExpr" || k.value.function !== "_?_:_") break;
          whens.push(`WHEN ${this.expr(k.value.args[0]).text} THEN ${this.expr(k.value.args[1]).text}`);
          rest = k.value.args[2];
        }
        return { text: `CASE ${whens.join(" ")} ELSE ${this.expr(rest).text} END`, prec: P.primary };
      }
    }
    if (fn.startsWith("_") || fn.startsWith("@")) this.fail(`the operator ${fn} has no SQL form`);
    let all = target ? [target, ...args] : args;
    if (target?.exprKind.case === "identExpr" && NAMESPACES[target.exprKind.value.name]?.has(fn)) all = args;
    return this.func(fn, all);
  }
}

export { Unexpressible, P as SQL_PRECEDENCE, wrap, type Out, type Parsed, type Expr };

/** Writes one CEL expression with a writer; what SQL cannot say comes back as a reason. */
export function writeCel(cel: string, writer: (parsed: Parsed) => CelSqlWriter): { ok: true; sql: string; primary: boolean } | { ok: false; reason: string } {
  const parsed = parseExpression(cel);
  if (!parsed.ok) return { ok: false, reason: `the expression does not parse: ${parsed.diagnostics[0]?.message ?? "syntax error"}` };
  try {
    const o = writer(parsed.parsed).expr(parsed.parsed.expr);
    return { ok: true, sql: o.text, primary: o.prec === P.primary };
  } catch (e) {
    if (e instanceof Unexpressible) return { ok: false, reason: e.message };
    if (e instanceof RangeError) return { ok: false, reason: "the expression is nested too deeply" };
    throw e;
  }
}

/** A CEL expression as Sluice SQL, or why it has no SQL form. */
export function celToSql(cel: string): SqlText {
  const r = writeCel(cel, (p) => new CelSqlWriter(p));
  return r.ok ? { ok: true, sql: r.sql } : r;
}

/** Same, with whether the text is a primary, so a caller knows when to parenthesise. */
export function celToSqlOperand(cel: string): { ok: true; sql: string; primary: boolean } | { ok: false; reason: string } {
  return writeCel(cel, (p) => new CelSqlWriter(p));
}
