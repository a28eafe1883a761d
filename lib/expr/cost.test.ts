import { describe, expect, it } from "vitest";
import type { StreamSchema } from "@/lib/pipeline/schema";
import { compileExpression, CostBudgetError, EXPRESSION_COST_LIMIT, expressionLoops } from "./index";
import { meter } from "./cost";

const schema: StreamSchema = [
  { name: "items", type: { list: "int" } },
  { name: "tags", type: { list: "string" } },
  { name: "s", type: "string" },
  { name: "n", type: "int" },
  { name: "doc", type: "json", nullable: true },
];

const list = (n: number) => `[${Array.from({ length: n }, (_, i) => i + 1).join(", ")}]`;
const compiled = (source: string) => {
  const r = compileExpression(source, schema);
  if (!r.ok) throw new Error(`does not compile: ${r.diagnostics.map((d) => d.message).join("; ")}`);
  return r.expr;
};
const refused = (source: string) => {
  const r = compileExpression(source, schema);
  if (r.ok) throw new Error(`compiled with cost ${r.expr.cost}`);
  return r.diagnostics.filter((d) => d.severity === "error");
};

describe("static cost estimate", () => {
  it("refuses the probe's predicate — nested map over list literals — on the outermost macro, with the loop sizes", () => {
    // The reproduction: 1.2 KB of nested `map` over literals pinned both workers for minutes.
    const l = list(30);
    const source = `${l}.map(a, ${l}.map(b, ${l}.map(c, ${l}.map(d, a + b + c + d)))).size() > 0`;
    expect(source.length).toBeGreaterThan(400);
    const [d] = refused(source);
    expect(d.message).toMatch(/can cost up to [\d,]+ units per record, over the limit of 1,000,000 — map\(\) iterates 30 × 30 × 30 × 30 times \(nested loops multiply\)/);
    expect(source.slice(d.start, d.start + 3)).toBe("map");
  });

  it("accepts loops whose estimate fits, and estimates from literal sizes", () => {
    expect(compiled(`${list(100)}.exists(x, x == n)`).cost).toBeLessThan(2_000);
    const two = compiled(`${list(50)}.map(a, ${list(50)}.filter(b, a < b).size()).size() > 0`).cost;
    expect(two).toBeGreaterThan(50 * 50 * 4);
    expect(two).toBeLessThan(EXPRESSION_COST_LIMIT);
  });

  it("assumes 100 elements for lists read from records: one or two nested loops pass, three are refused", () => {
    expect(compiled("items.all(x, x >= 0)").cost).toBeGreaterThanOrEqual(100);
    expect(compiled("items.exists(a, items.exists(b, a + b == n))").cost).toBeLessThan(EXPRESSION_COST_LIMIT);
    expect(refused("items.exists(a, items.exists(b, items.exists(c, a + b + c == n)))")[0].message).toMatch(/iterates 100 × 100 × 100 times/);
    // JSON of unknown shape is assumed to be a list of that size as well.
    expect(refused("doc.exists(a, doc.exists(b, doc.exists(c, a == b)))")).toHaveLength(1);
  });

  it("counts what string functions build: amplifying replace() over a record string is refused", () => {
    expect(compiled("s.contains('x') && lowerAscii(s) == 'a'").cost).toBeLessThan(1_000);
    expect(refused("replace(replace(s, 'a', s), 'a', s) == ''")[0].message).toMatch(/over the limit/);
  });

  it("leaves constant expressions alone", () => {
    expect(compiled("1 + 2 == 3").constant).toEqual({ value: true });
  });

  it("says which expressions loop", () => {
    expect(expressionLoops("items.exists(x, x > 1)")).toBe(true);
    expect(expressionLoops("n > 1 && s.contains('x')")).toBe(false);
  });
});

describe("run-time budget per record", () => {
  it("fails the one record that runs out, and the next record evaluates normally", () => {
    const e = compiled("items.exists(a, items.exists(b, a + b < 0))");
    const big = { items: Array.from({ length: 100_000 }, (_, i) => i) };
    expect(() => e.evaluate(big)).toThrow(CostBudgetError);
    expect(() => e.evaluate(big)).toThrow(/exceeded its cost budget of 1,000,000 units for one record/);
    expect(e.evaluate({ items: [1, 2, 3] })).toBe(false);
    expect(meter.left).toBe(Infinity);
  });

  it("is not absorbed by CEL's error-tolerant || (running out ends the evaluation)", () => {
    const e = compiled("items.exists(a, items.exists(b, a + b < 0)) || n > 0");
    expect(() => e.evaluate({ items: Array.from({ length: 100_000 }, (_, i) => i), n: 1 })).toThrow(CostBudgetError);
    expect(e.evaluate({ items: [1], n: 1 })).toBe(true);
  });

  it("stops an amplifying string function before it builds its result", () => {
    const e = compiled("replace(s, 'a', s).size() > 0");
    expect(() => e.evaluate({ s: "a".repeat(5_000) })).toThrow(CostBudgetError);
    expect(e.evaluate({ s: "abc" })).toBe(true);
  });

  it("map and filter over a long record list run in linear time (appended in place), within the budget", () => {
    const items = Array.from({ length: 50_000 }, (_, i) => i);
    expect(compiled("items.map(x, x * 2).size() == 50000").evaluate({ items })).toBe(true);
    expect(compiled("items.filter(x, x % 2 == 0).size() == 25000").evaluate({ items })).toBe(true);
    expect(compiled("items.map(x, x % 3 == 0, x).size()").evaluate({ items })).toBe(16_667);
    // Same values and errors as the list-copying form.
    expect(compiled("[1, 2, 3].map(x, x * 10)").evaluate({})).toEqual([10, 20, 30]);
    expect(compiled("tags.filter(t, t.startsWith('a'))").evaluate({ tags: ["ab", "b", "ac"] })).toEqual(["ab", "ac"]);
    expect(() => compiled("items.map(x, 10 / x)").evaluate({ items: [1, 0] })).toThrow(/division by zero/);
    const twice = compiled("items.map(x, x)");
    const a = twice.evaluate({ items: [] }) as unknown[];
    (a as number[]).push(1);
    expect(twice.evaluate({ items: [] })).toEqual([]);
  });

  it("an expression without loops or sized functions never touches the meter", () => {
    meter.left = 7;
    try {
      expect(compiled("n > 1 && n < 10").evaluate({ n: 5 })).toBe(true);
      expect(meter.left).toBe(7);
    } finally {
      meter.left = Infinity;
    }
  });
});
