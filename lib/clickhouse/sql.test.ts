import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { identifier, literal, quoteString, raw, sql } from "./sql";

describe("ClickHouse SQL helpers", () => {
  it("escapes quotes, backslashes and control characters", () => {
    expect(quoteString("it's")).toBe("'it\\'s'");
    expect(quoteString("a\\b")).toBe("'a\\\\b'");
    expect(quoteString("x\n\t\0")).toBe("'x\\n\\t\\0'");
    expect(quoteString("\\'; DROP TABLE t; --")).toBe("'\\\\\\'; DROP TABLE t; --'");
  });

  it("never lets a string value end its literal early", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const q = quoteString(s);
        // Every quote inside is preceded by an odd number of backslashes.
        const body = q.slice(1, -1);
        for (let i = 0; i < body.length; i++) {
          if (body[i] === "'") {
            let n = 0;
            for (let j = i - 1; j >= 0 && body[j] === "\\"; j--) n++;
            expect(n % 2).toBe(1);
          }
        }
        // Trailing backslashes are paired so the closing quote is real.
        const trailing = /\\*$/.exec(body)![0].length;
        expect(trailing % 2).toBe(0);
      }),
    );
  });

  it("renders numbers, bigints, booleans, null, dates and lists", () => {
    expect(literal(3)).toBe("3");
    expect(literal(10n ** 20n)).toBe("100000000000000000000");
    expect(literal(true)).toBe("1");
    expect(literal(null)).toBe("NULL");
    expect(literal(new Date(60_000))).toBe("toDateTime(60)");
    expect(() => literal(Number.NaN)).toThrow();
    expect(sql`SELECT ${raw(identifier("t"))} WHERE a IN ${["x", "y"]} AND b = ${2}`).toBe("SELECT t WHERE a IN ('x', 'y') AND b = 2");
  });

  it("rejects identifiers that are not plain names", () => {
    expect(identifier("node_metrics")).toBe("node_metrics");
    expect(() => identifier("x; DROP")).toThrow(/invalid SQL identifier/);
    expect(() => identifier("1abc")).toThrow();
  });
});
