import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StreamSchema } from "@/lib/pipeline/schema";
import { canonicalExpression, compileExpression, type CompiledExpression } from "./index";

const schema: StreamSchema = [
  { name: "status", type: "int" },
  { name: "country", type: "string" },
  { name: "amount", type: "float" },
  { name: "tags", type: { list: "string" } },
  { name: "user", type: { struct: [{ name: "id", type: "string" }, { name: "age", type: "int", nullable: true }] } },
  { name: "payload", type: "json" },
  { name: "ts", type: "timestamp" },
  { name: "note", type: "string", nullable: true },
];

const row = {
  status: 200,
  country: "US",
  amount: 12.5,
  tags: ["a", "bb"],
  user: { id: "u1", age: null },
  payload: { a: { b: [1, 2] }, s: "x" },
  ts: Date.UTC(2024, 4, 1, 13, 45, 30, 250),
  note: null,
};

function compile(src: string): CompiledExpression {
  const r = compileExpression(src, schema);
  if (!r.ok) throw new Error(`unexpected diagnostics for ${src}: ${JSON.stringify(r.diagnostics)}`);
  return r.expr;
}
const evalOn = (src: string, r: Record<string, unknown> = row) => compile(src).evaluate(r);
const failure = (src: string, r: Record<string, unknown> = row) => {
  try {
    compile(src).evaluate(r);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`expected ${src} to fail`);
};
const diagnostics = (src: string) => {
  const r = compileExpression(src, schema);
  if (r.ok) throw new Error(`expected diagnostics for ${src}`);
  return r.diagnostics;
};

describe("CEL evaluation", () => {
  it.each([
    ['status == 200 && country == "US" && amount > 10.0', true],
    ["status != 200 || amount < 1.0", false],
    ["status * 2 + 1", 401],
    ["7 / 2", 3],
    ["-7 / 2", -3],
    ["7 % 3", 1],
    ["amount * 2", 25],
    ["status * 1.5", 300],
    ['"a" + "b"', "ab"],
    ["[1, 2] + [3]", [1, 2, 3]],
    ["status in [200, 201]", true],
    ['"x" in {"x": 1}', true],
    ["status > 100 ? \"ok\" : \"low\"", "ok"],
    ["size(tags)", 2],
    ['size("héllo")', 5],
    ["tags[1]", "bb"],
    ['{"a": status}["a"]', 200],
    ["user.id", "u1"],
    ["has(user.age)", false],
    ["has(user.id)", true],
    ["payload.a.b[1] + 1", 3],
  ])("%s", (src, expected) => {
    expect(evalOn(src)).toEqual(expected);
  });

  it.each([
    ['country.contains("S")', true],
    ['country.startsWith("U")', true],
    ['country.endsWith("X")', false],
    ['"Hello".lowerAscii()', "hello"],
    ['"Hello".upperAscii()', "HELLO"],
    ['"  x ".trim()', "x"],
    ['"a-b-c".replace("-", "+")', "a+b+c"],
    ['"a,b".split(",")', ["a", "b"]],
    ['"héllo".substring(1, 3)', "él"],
    ['"héllo".substring(2)', "llo"],
    ['"héllo".indexOf("l")', 2],
    ['["a", "b"].join("-")', "a-b"],
    ['country.matches("^U[A-Z]$")', true],
    ['matches("abc", "b+")', true],
    ['"order-42".extract("(\\\\d+)")', "42"],
    ['"abc".extract("z")', null],
    ['"a1b22".regexReplace("\\\\d+", "#")', "a#b#"],
  ])("strings and regex: %s", (src, expected) => {
    expect(evalOn(src)).toEqual(expected);
  });

  it.each([
    ["math.abs(-3)", 3],
    ["abs(-2.5)", 2.5],
    ["ceil(1.2)", 2],
    ["floor(1.8)", 1],
    ["round(2.5)", 3],
    ["round(-2.5)", -3],
    ["sqrt(16.0)", 4],
    ["pow(2.0, 10.0)", 1024],
    ["math.greatest(1, 5, 3)", 5],
    ["least(1.5, 0.5)", 0.5],
    ['int("42")', 42],
    ["int(3.9)", 3],
    ['double("2.5")', 2.5],
    ["string(status)", "200"],
    ['bool("true")', true],
  ])("math and conversions: %s", (src, expected) => {
    expect(evalOn(src)).toEqual(expected);
  });

  it.each([
    ["ts.getFullYear()", 2024],
    ["ts.getMonth()", 4],
    ["ts.getDayOfMonth()", 0],
    ["ts.getDate()", 1],
    ["ts.getDayOfWeek()", 3],
    ["ts.getHours()", 13],
    ['ts.getHours("+08:00")', 21],
    ['ts.getHours("Asia/Shanghai")', 21],
    ['ts.getHours("America/New_York")', 9],
    ["ts.getMinutes()", 45],
    ["ts.getSeconds()", 30],
    ["ts.getMilliseconds()", 250],
    ['string(ts)', "2024-05-01T13:45:30.250Z"],
    ['string(ts + duration("1h30m"))', "2024-05-01T15:15:30.250Z"],
    ['ts - timestamp("2024-05-01T13:45:30Z") == duration("250ms")', true],
    ['duration("2h").getMinutes()', 120],
    ['string(ts.truncate(duration("1m")))', "2024-05-01T13:45:00.000Z"],
    ["ts > 1700000000000", true],
    ['timestamp("2024-05-01T00:00:00+02:00") < ts', true],
    ['string(duration("1.5s"))', "1.5s"],
    ["int(timestamp(1000))", 1000],
  ])("timestamps and durations: %s", (src, expected) => {
    expect(evalOn(src)).toEqual(expected);
  });

  it.each([
    ['jsonPath(payload, "$.a.b[0]")', 1],
    ['jsonPath(payload, "$.a.missing.deeper")', null],
    ['jsonPath(payload, "$[\\"s\\"]")', "x"],
    ['parseJson("{\\"k\\": [1]}").k[0]', 1],
    ['toJson({"a": [1, true]})', '{"a":[1,true]}'],
    ['coalesce(note, "none")', "none"],
    ['coalesce(note, country)', "US"],
    ['coalesce(user.age, 0)', 0],
    ["isNull(note)", true],
    ['sha256("abc")', "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ['md5("abc")', "900150983cd24fb0d6963f7d28e17f72"],
    ['sha1("abc")', "a9993e364706816aba3e25717850c26c9cd0d89d"],
  ])("json, nulls and hashing: %s", (src, expected) => {
    expect(evalOn(src)).toEqual(expected);
  });

  it("hash() is stable, spreads keys and stays within 53 bits", () => {
    const h = evalOn('hash("user-1")') as number;
    expect(h).toBe(evalOn('hash("user-1")'));
    expect(Number.isSafeInteger(h) && h >= 0).toBe(true);
    const buckets = new Set<number>();
    for (let i = 0; i < 200; i++) buckets.add((compile("hash(country) % 16").evaluate({ ...row, country: `c${i}` }) as number));
    expect(buckets.size).toBe(16);
  });

  it.each([
    ["tags.exists(t, t == \"bb\")", true],
    ["tags.all(t, size(t) >= 1)", true],
    ["tags.exists_one(t, t.startsWith(\"a\"))", true],
    ['tags.map(t, t + "!")', ["a!", "bb!"]],
    ["tags.filter(t, size(t) > 1)", ["bb"]],
    ["[1, 2, 3].map(x, x * x).filter(y, y > 1)", [4, 9]],
    ['{"a": 1, "b": 2}.all(k, k != "c")', true],
    ["[[1], [2, 3]].exists(l, l.exists(x, x == 3))", true],
  ])("macros: %s", (src, expected) => {
    expect(evalOn(src)).toEqual(expected);
  });

  it("absorbs an error on one side of && / || when the other side decides", () => {
    expect(evalOn('user.age > 3 && country == "FR"')).toBe(false);
    expect(evalOn('country == "FR" && user.age > 3')).toBe(false);
    expect(evalOn('user.age > 3 || country == "US"')).toBe(true);
    expect(failure('user.age > 3 && country == "US"')).toMatch(/user\.age is null/);
  });

  it("reports per-record failures with reasons", () => {
    expect(failure("status / 0")).toBe("division by zero");
    expect(failure("status % 0")).toBe("modulus by zero");
    expect(failure("tags[5]")).toMatch(/index 5 out of range/);
    expect(failure('payload.nope')).toMatch(/no such key: "nope"/);
    expect(failure('int(country)')).toMatch(/cannot convert "US" to int/);
    expect(failure("note.size() > 2")).toMatch(/note is null/);
    expect(failure("status > 1", { ...row, status: "oops" })).toMatch(/field "status" should be int but is string/);
    expect(failure("status > 1", { ...row, status: undefined })).toMatch(/field "status" is missing/);
    expect(failure("9007199254740991 + status")).toBe("integer overflow");
    expect(failure('timestamp(country)')).toMatch(/invalid timestamp/);
    expect(failure('payload.s + 1')).toMatch(/not defined for \(string, int\)/);
  });

  it("folds constants and marks record-independent expressions", () => {
    expect(compile("1 + 2 * 3").constant).toEqual({ value: 7 });
    expect(compile("true || status > 1").constant).toEqual({ value: true });
    expect(compile("status > 1 && false").constant).toEqual({ value: false });
    expect(compile('"a" == "a" ? status : 0').constant).toBeUndefined();
    expect(compile("status > 1").constant).toBeUndefined();
  });

  it("lists the top-level fields an expression reads", () => {
    expect(compile('user.id == "x" && tags.exists(t, t == country)').fieldsRead).toEqual(["country", "tags", "user"]);
  });
});

describe("CEL type checking", () => {
  it("suggests the closest field for an unknown one, with its range", () => {
    const [d] = diagnostics("amout > 3");
    expect(d.message).toBe('unknown field "amout" — did you mean "amount"?');
    expect([d.start, d.end]).toEqual([0, 5]);
    expect(diagnostics("user.idd == 1")[0].message).toMatch(/no field "idd".*did you mean "id"/);
  });

  it("suggests the closest function", () => {
    expect(diagnostics('country.startWith("U")')[0].message).toMatch(/unknown function startWith\(\) — did you mean "startsWith"/);
    expect(diagnostics("math.absolute(1)")[0].message).toMatch(/unknown function math.absolute/);
  });

  it("rejects operations undefined for the static types", () => {
    expect(diagnostics('status > "x"')[0].message).toMatch(/> is not defined for \(int, string\)/);
    expect(diagnostics('"a" == 1')[0].message).toMatch(/comparing string with int is never equal/);
    expect(diagnostics("tags.foo")[0].message).toMatch(/cannot select field "foo" from list/);
    expect(diagnostics("status.exists(x, x > 1)")[0].message).toMatch(/cannot iterate over int/);
    expect(diagnostics("status && true")[0].message).toMatch(/left side of && must be a bool/);
    expect(diagnostics("{1: 2}")[0].message).toMatch(/map keys must be strings/);
  });

  it("checks constant arguments at compile time", () => {
    expect(diagnostics('country.matches("(")')[0].message).toMatch(/invalid regular expression/);
    expect(diagnostics('country.matches("(?=x)")')[0].message).toMatch(/invalid regular expression/);
    expect(diagnostics('duration("5 minutes")')[0].message).toMatch(/invalid duration/);
    expect(diagnostics('timestamp("yesterday")')[0].message).toMatch(/invalid timestamp/);
    expect(diagnostics('jsonPath(payload, "a.b")')[0].message).toMatch(/must start with "\$"/);
    expect(diagnostics("1 / 0")[0].message).toMatch(/always fails: division by zero/);
  });

  it("refuses an expression that always fails, not one with a failing part CEL never reaches", () => {
    // Found by the differential property: `false ? (0 % 0) : a` is valid CEL and evaluates to a.
    expect(evalOn("false ? (0 % 0) : status")).toBe(200);
    expect(evalOn("true ? status : [1, 2][5]")).toBe(200);
    expect(evalOn("false && 1 / 0 > 0")).toBe(false);
    expect(evalOn("1 / 0 > 0 || true")).toBe(true);
    expect(evalOn("[1].all(v, v < (false ? (0 % 0) : status))")).toBe(true);
    expect(evalOn("[].map(x, 1 / 0)")).toEqual([]);
    // Reached on every path: refused.
    expect(diagnostics("true ? (0 % 0) : status")[0].message).toMatch(/always fails: modulus by zero|always fails/);
    expect(diagnostics("status + 1 / 0")[0].message).toMatch(/always fails: division by zero/);
    expect(diagnostics("status > 0 ? 1 / 0 : 2 / 0")[0].message).toMatch(/always fails: division by zero/);
    expect(diagnostics("[1 / 0, status]")[0].message).toMatch(/always fails/);
    expect(diagnostics('{"a": 1 / 0}.a')[0].message).toMatch(/always fails/);
    // Reached only for some records: compiles, with a warning on the part, and fails those records.
    const r = compileExpression("status > 100 && 1 / 0 > 0", schema);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.expr.warnings.map((d) => [d.severity, d.message])).toEqual([["warning", "this part always fails when it is evaluated: division by zero"]]);
    expect(failure("status > 100 && 1 / 0 > 0")).toMatch(/division by zero/);
    expect(evalOn("status > 100 && 1 / 0 > 0", { ...row, status: 5 })).toBe(false);
  });

  it("checks the result type when one is expected", () => {
    const r = compileExpression("status + 1", schema, "bool");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.diagnostics[0].message).toBe("expression must produce bool, but produces int");
    expect(compileExpression("payload.flag", schema, "bool").ok).toBe(true);
  });

  it("reports syntax errors with a position", () => {
    const [d] = diagnostics("status + ");
    expect(d.message).toMatch(/^syntax error/);
    expect(d.start).toBeGreaterThan(0);
    expect(diagnostics("")[0].message).toBe("expression is empty");
    expect(diagnostics("x".repeat(9000))[0].message).toMatch(/longer than/);
  });
});

describe("regex safety", () => {
  it("matches in linear time on inputs that make backtracking engines explode", () => {
    const expr = compile('country.matches("^(a+)+$")');
    const evil = { ...row, country: `${"a".repeat(20_000)}!` };
    const t = performance.now();
    expect(expr.evaluate(evil)).toBe(false);
    expect(performance.now() - t).toBeLessThan(1000);
  });
});

describe("parser robustness", () => {
  const alphabet = fc.constantFrom(..."ab01 .,()[]{}\"'\\+-*/%<>=!&|?:_$@#\n".split(""), "in", "has(", "exists", "status", "user.", "true", "null", "1e9", "0x", "b\"", "r'");
  it("never throws or hangs on random and malformed input", () => {
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 60 }).map((a) => a.join("")), (src) => {
        const t = performance.now();
        const r = compileExpression(src, schema);
        expect(performance.now() - t).toBeLessThan(2000);
        if (r.ok) {
          try {
            r.expr.evaluate(row);
          } catch (e) {
            expect(e).toBeInstanceOf(Error);
          }
        } else expect(r.diagnostics.length).toBeGreaterThan(0);
      }),
      { numRuns: 400 },
    );
  });

  it("turns pathological nesting into a diagnostic", () => {
    for (const src of ["(".repeat(3000) + "1" + ")".repeat(3000), "-".repeat(5000) + "1", "[".repeat(4000)]) {
      const r = compileExpression(src, schema);
      if (!r.ok) expect(r.diagnostics[0].severity).toBe("error");
      else expect(typeof r.expr.evaluate).toBe("function");
    }
  });

  it("fuzzes with arbitrary unicode strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80, unit: "grapheme" }), (src) => {
        const r = compileExpression(src, schema);
        expect(typeof r.ok).toBe("boolean");
      }),
      { numRuns: 300 },
    );
  });
});

describe("canonical expression text", () => {
  it("normalises whitespace and redundant parentheses", () => {
    expect(canonicalExpression("  (status==200)&&( country  ==  'US')")).toBe(canonicalExpression('status == 200 && country == "US"'));
    expect(canonicalExpression("status > 1")).not.toBe(canonicalExpression("status >= 1"));
  });
});

describe("untrusted record keys", () => {
  const protoSchema: StreamSchema = [
    { name: "constructor", type: "string", nullable: true },
    { name: "payload", type: "json" },
  ];
  it("reads own properties only, never Object.prototype members", () => {
    const r = compileExpression("coalesce(constructor, \"none\")", protoSchema);
    expect(r.ok && r.expr.evaluate({ payload: {} })).toBe("none");
    const p = compileExpression("has(payload.toString)", protoSchema);
    expect(p.ok && p.expr.evaluate({ payload: {} })).toBe(false);
    const q = compileExpression("payload.constructor", protoSchema);
    expect(() => q.ok && q.expr.evaluate({ payload: {} })).toThrow(/no such key: "constructor"/);
  });

  it("treats __proto__ in map literals as a plain key", () => {
    const r = compileExpression('{"__proto__": {"polluted": true}}', protoSchema);
    const v = r.ok ? (r.expr.evaluate({ payload: {} }) as Record<string, unknown>) : undefined;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v!)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("compares timestamps with epoch-millisecond ints", () => {
    expect(evalOn(`ts == ${row.ts}`)).toBe(true);
  });
});

describe("null guards from the operators guide", () => {
  it("a guarded or defaulted nullable field is false, not an error", () => {
    expect(evalOn("!isNull(note) && note.size() > 2")).toBe(false);
    expect(evalOn('coalesce(note, "").size() > 2')).toBe(false);
    expect(evalOn("!isNull(note) && note.size() > 2", { ...row, note: "long" })).toBe(true);
  });
});

describe("function catalog for the expression editor", () => {
  it("lists every callable function with readable signatures, operators excluded", async () => {
    const { expressionFunctions } = await import("./index");
    const catalog = expressionFunctions();
    const contains = catalog.find((f) => f.name === "contains")!;
    expect(contains.signatures).toEqual(["contains(string, string) → bool"]);
    expect(catalog.find((f) => f.name === "coalesce")!.signatures).toEqual(["coalesce(dyn, ...) → dyn"]);
    expect(catalog.map((f) => f.name)).not.toContain("_+_");
    for (const f of catalog) expect(f.signatures.length).toBeGreaterThan(0);
  });
});
