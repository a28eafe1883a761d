import { celEnv, CelScalar, isCelError, parse, plan } from "@bufbuild/cel";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StreamSchema } from "@/lib/pipeline/schema";
import { compileExpression } from "./index";

/**
 * Differential test: our checked-and-compiled closures against @bufbuild/cel's
 * own evaluator (the reference implementation of CEL semantics in JS) on
 * random well-typed expressions over int and string fields. Values stay small
 * so int64 vs 2^53 overflow limits never differ.
 */
const schema: StreamSchema = [
  { name: "a", type: "int" },
  { name: "b", type: "int" },
  { name: "s", type: "string" },
  { name: "x", type: "float" },
];
const env = celEnv({ variables: { a: CelScalar.INT, b: CelScalar.INT, s: CelScalar.STRING, x: CelScalar.DOUBLE } } as never);

// Pure double arithmetic (CEL forbids int/double mixing; Sluice widens, so mixed forms are not compared).
const doubleExpr: fc.Arbitrary<string> = fc.letrec((tie) => ({
  d: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("x", "0.0", "1.5", "-2.25", "double(a)", "double(s.size())"),
    fc.tuple(tie("d") as fc.Arbitrary<string>, fc.constantFrom("+", "-", "*", "/"), tie("d") as fc.Arbitrary<string>).map(([p, op, q]) => `(${p} ${op} ${q})`),
    fc.tuple(tie("d") as fc.Arbitrary<string>, fc.constantFrom("<", ">=", "==", "!="), tie("d") as fc.Arbitrary<string>, tie("d") as fc.Arbitrary<string>).map(([p, op, q, r]) => `((${p} ${op} ${q}) ? ${r} : ${p})`),
  ),
})).d;

const { int: intExpr, bool: boolExpr } = fc.letrec((tie) => ({
  int: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("a", "b"),
    fc.integer({ min: -6, max: 6 }).map(String),
    fc.constantFrom("size(s)", "s.size()"),
    fc.tuple(tie("int") as fc.Arbitrary<string>, fc.constantFrom("+", "-", "*", "/", "%"), tie("int") as fc.Arbitrary<string>).map(([x, op, y]) => `(${x} ${op} ${y})`),
    (tie("int") as fc.Arbitrary<string>).map((x) => `(-${x})`),
    fc.tuple(tie("bool") as fc.Arbitrary<string>, tie("int") as fc.Arbitrary<string>, tie("int") as fc.Arbitrary<string>).map(([c, x, y]) => `(${c} ? ${x} : ${y})`),
  ),
  bool: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("true", "false"),
    fc.tuple(tie("int") as fc.Arbitrary<string>, fc.constantFrom("<", "<=", ">", ">=", "==", "!="), tie("int") as fc.Arbitrary<string>).map(([x, op, y]) => `(${x} ${op} ${y})`),
    fc.tuple(tie("bool") as fc.Arbitrary<string>, fc.constantFrom("&&", "||", "==", "!="), tie("bool") as fc.Arbitrary<string>).map(([x, op, y]) => `(${x} ${op} ${y})`),
    (tie("bool") as fc.Arbitrary<string>).map((x) => `(!${x})`),
    fc.constantFrom('s.startsWith("x")', 's.endsWith("y")', 's.contains("xy")', '(s == "xy")', '(s + "!").endsWith("y!")', "(a in [1, 2, 3])", '("q" in ["p", s])'),
    (tie("int") as fc.Arbitrary<string>).map((x) => `[1, 2, 3].exists(v, v == ${x})`),
    (tie("int") as fc.Arbitrary<string>).map((x) => `[a, b].all(v, v < ${x})`),
  ),
}));

const record = fc.record({
  a: fc.integer({ min: -4, max: 4 }),
  b: fc.integer({ min: -4, max: 4 }),
  s: fc.constantFrom("", "x", "xy", "yy", "héllo"),
  x: fc.constantFrom(0, -0.5, 2.75, 1e-9, 12345.678),
});
type Rec = { a: number; b: number; s: string; x: number };

function ours(src: string, row: Rec): { ok: true; value: unknown } | { ok: false } {
  const c = compileExpression(src, schema);
  if (!c.ok) {
    // Constant folding reports an always-failing expression at compile time.
    expect(c.diagnostics.map((d) => d.message).join("; ")).toMatch(/always fails/);
    return { ok: false };
  }
  try {
    return { ok: true, value: c.expr.evaluate(row) };
  } catch {
    return { ok: false };
  }
}

function reference(src: string, row: Rec): { ok: true; value: unknown } | { ok: false } {
  const run = plan(env as never, parse(src)) as (bindings: unknown) => unknown;
  const v = run({ a: BigInt(row.a), b: BigInt(row.b), s: row.s, x: row.x });
  if (isCelError(v)) return { ok: false };
  return { ok: true, value: typeof v === "bigint" ? Number(v) : v };
}

describe("compiled CEL agrees with @bufbuild/cel (differential property)", () => {
  it.each([
    ["int", intExpr],
    ["bool", boolExpr],
    ["double", doubleExpr],
  ] as const)("%s expressions: same value, or both fail", (_, arb) => {
    fc.assert(
      fc.property(arb, record, (src, row) => {
        expect(ours(src, row)).toEqual(reference(src, row));
      }),
      { numRuns: 600 },
    );
  });
});
