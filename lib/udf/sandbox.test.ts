import { afterEach, describe, expect, it } from "vitest";
import type { UdfForm } from "@/lib/pipeline/nodes/udf";
import type { Row } from "@/lib/pipeline/schema";
import { buildUdf, liveIsolates, MAX_FLATMAP_OUTPUTS, MAX_TIMEOUTS_PER_BATCH, recordCheckSource, UdfCompileError, UdfSandbox, validateUdfSource } from "./index";

const LIMITS = { memoryMb: 32, timeoutMs: 100 };
const open: UdfSandbox[] = [];
async function sandbox(source: string, form: UdfForm = "map", limits = LIMITS) {
  const s = await UdfSandbox.create(source, form, limits);
  open.push(s);
  return s;
}
afterEach(() => {
  for (const s of open.splice(0)) s.dispose();
});

const rows = (n: number): Row[] => Array.from({ length: n }, (_, i) => ({ i, name: `n${i}` }));

/** Every input index is accounted for exactly once (map): as an output or as an error. */
function expectAccounted(res: { outIndex: number[]; errors: { index: number }[] }, n: number) {
  expect([...res.outIndex, ...res.errors.map((e) => e.index)].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
}

describe("UdfSandbox forms", () => {
  it("map returns one record per input, in order, across chunk boundaries", async () => {
    const s = await sandbox("(r) => ({ ...r, double: r.i * 2 })");
    const res = await s.runBatch(rows(1_500));
    expect(res.errors).toEqual([]);
    expect(res.out).toHaveLength(1_500);
    expect(res.out[1_234]).toEqual({ i: 1_234, name: "n1234", double: 2_468 });
    expect(res.outIndex).toEqual(Array.from({ length: 1_500 }, (_, i) => i));
  });

  it("flatMap returns 0..n records per input with the input index of each", async () => {
    const s = await sandbox("(r) => Array.from({ length: r.i % 3 }, (_, j) => ({ i: r.i, j }))", "flatMap");
    const res = await s.runBatch(rows(5));
    expect(res.out).toEqual([{ i: 1, j: 0 }, { i: 2, j: 0 }, { i: 2, j: 1 }, { i: 4, j: 0 }]);
    expect(res.outIndex).toEqual([1, 2, 2, 4]);
  });

  it("filter keeps the input rows themselves for which the function returns true", async () => {
    const input = rows(6);
    const s = await sandbox("(r) => r.i % 2 === 0", "filter");
    const res = await s.runBatch(input);
    expect(res.out).toEqual([input[0], input[2], input[4]]);
    expect(res.out[1]).toBe(input[2]);
    expect(res.outIndex).toEqual([0, 2, 4]);
  });
});

describe("UdfSandbox error records", () => {
  it("a throw or a wrong shape becomes an error for that record only", async () => {
    const s = await sandbox("(r) => { if (r.i === 1) throw new RangeError('bad ' + r.name); if (r.i === 2) return [r]; if (r.i === 3) return null; if (r.i === 4) throw 'text'; return r; }");
    const res = await s.runBatch(rows(6));
    expect(res.outIndex).toEqual([0, 5]);
    expect(res.errors).toEqual([
      { index: 1, reason: "function threw RangeError: bad n1" },
      { index: 2, reason: "map must return an object (a record), got a list" },
      { index: 3, reason: "map must return an object (a record), got null" },
      { index: 4, reason: "function threw text" },
    ]);
  });

  it("flatMap and filter shape errors", async () => {
    const f = await sandbox("(r) => r.i === 0 ? r : r.i === 1 ? [1] : r.i === 2 ? new Array(" + (MAX_FLATMAP_OUTPUTS + 1) + ").fill({}) : []", "flatMap");
    expect((await f.runBatch(rows(4))).errors.map((e) => [e.index, e.reason.split(",")[0]])).toEqual([
      [0, "flatMap must return a list of records"],
      [1, "flatMap must return an object (a record)"],
      [2, `flatMap returned ${MAX_FLATMAP_OUTPUTS + 1} records for one input (at most ${MAX_FLATMAP_OUTPUTS})`],
    ]);
    const g = await sandbox("(r) => r.i === 0 ? 'yes' : true", "filter");
    const res = await g.runBatch(rows(2));
    expect(res.errors).toEqual([{ index: 0, reason: "filter must return true or false, got string" }]);
    expect(res.outIndex).toEqual([1]);
  });

  it("records that cannot be encoded (cycles, BigInt) or are larger than 1 MiB are errors; the rest pass", async () => {
    const s = await sandbox("(r) => { if (r.i === 1) { const a = {}; a.self = a; return a; } if (r.i === 2) return { n: 1n }; if (r.i === 3) return { s: 'x'.repeat(2e6) }; return r; }", "map", { memoryMb: 64, timeoutMs: 1_000 });
    const res = await s.runBatch(rows(5));
    expect(res.outIndex).toEqual([0, 4]);
    expect(res.errors.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(res.errors[2].reason).toContain("larger than");
  });
});

describe("sandbox escape suite", () => {
  it("has no require, process, module, import, fetch, timers or host globals", async () => {
    const s = await sandbox(`(r) => ({
      require: typeof require, process: typeof process, module: typeof module, fetch: typeof fetch,
      setTimeout: typeof setTimeout, setInterval: typeof setInterval, queueMicrotask: typeof queueMicrotask,
      Buffer: typeof Buffer, WebAssembly: typeof WebAssembly,
      viaConstructor: typeof (r.constructor.constructor("return this")().process),
      viaFunction: Function("return typeof process")(),
      viaProto: typeof ({}).__proto__.constructor.constructor("return globalThis")().require,
    })`);
    const res = await s.runBatch([{}]);
    expect(res.errors).toEqual([]);
    const seen = res.out[0];
    for (const k of ["require", "process", "module", "fetch", "setTimeout", "setInterval", "Buffer", "viaConstructor", "viaProto"]) expect(seen[k], k).toBe("undefined");
    expect(seen.viaFunction).toBe("undefined");
  });

  it("dynamic import fails as a record error", async () => {
    const s = await sandbox("(r) => { import('fs'); return r; }");
    const res = await s.runBatch([{}]);
    // import() returns a rejected promise inside the isolate; the record itself is fine or an error, never fs access.
    expect(res.out.length + res.errors.length).toBe(1);
    expect(JSON.stringify(res)).not.toContain("readFile");
  });

  it("prototype pollution stays inside the isolate; __proto__ keys in output do not reach host prototypes", async () => {
    const s = await sandbox("(r) => { Object.prototype.polluted = 'yes'; Array.prototype.push = () => 0; JSON.stringify = () => '\"hacked\"'; return JSON.parse('{\"__proto__\": {\"polluted\": \"yes\"}, \"ok\": 1}'); }");
    const res = await s.runBatch(rows(3));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false);
    expect(res.errors).toEqual([]);
    for (const r of res.out) {
      expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
      expect(Object.assign({}, r).polluted).toBeUndefined();
      expect(r.ok).toBe(1);
    }
    // A second batch in the same (polluted) isolate still yields honest results.
    const again = await s.runBatch(rows(2));
    expectAccounted(again, 2);
  });

  it("a function that breaks the runner's built-ins produces errors, never lost or forged records", async () => {
    const s = await sandbox("(r) => { Array.prototype.join = function () { return '{\"forged\":1}' }; Array.isArray = () => true; return r; }");
    const res = await s.runBatch(rows(20));
    expectAccounted(res, 20);
    for (const r of res.out) expect(r).not.toHaveProperty("forged");
  });

  it("an infinite loop errors only the looping record; the batch finishes within the time bound", async () => {
    const s = await sandbox("(r) => { if (r.i === 2) for (;;) {} return r; }");
    const t = performance.now();
    const res = await s.runBatch(rows(5));
    expect(performance.now() - t).toBeLessThan(2 * LIMITS.timeoutMs + 500);
    expect(res.outIndex).toEqual([0, 1, 3, 4]);
    expect(res.errors).toEqual([{ index: 2, reason: `function exceeded the time limit of ${LIMITS.timeoutMs} ms` }]);
    // The same isolate keeps working.
    expect((await s.runBatch([{ i: 7 }, { i: 8 }])).out).toEqual([{ i: 7 }, { i: 8 }]);
  });

  it("a batch where every record loops costs at most MAX_TIMEOUTS_PER_BATCH budgets, then the rest error", async () => {
    const s = await sandbox("(r) => { while (true) {} }");
    const t = performance.now();
    const res = await s.runBatch(rows(50));
    expect(performance.now() - t).toBeLessThan((MAX_TIMEOUTS_PER_BATCH + 1) * LIMITS.timeoutMs + 1_000);
    expect(res.out).toEqual([]);
    expectAccounted(res, 50);
    expect(res.errors[49].reason).toContain("not run");
  });

  it("a memory bomb errors only its record; the isolate is replaced and the others succeed", async () => {
    const s = await sandbox("(r) => { if (r.i === 5) { const a = []; for (;;) a.push(new Array(1e5).fill(r.i)); } return r; }", "map", { memoryMb: 16, timeoutMs: 5_000 });
    const res = await s.runBatch(rows(8));
    expect(res.errors).toEqual([{ index: 5, reason: "function exceeded its memory limit of 16 MB" }]);
    expect(res.outIndex).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect(s.isolatesCreated).toBeGreaterThan(1);
    expect(liveIsolates()).toBe(1);
  }, 30_000);

  it("huge outputs (string bombs, flatMap floods) are contained", async () => {
    const s = await sandbox("(r) => Array.from({ length: 1e6 }, () => r)", "flatMap", { memoryMb: 64, timeoutMs: 2_000 });
    const res = await s.runBatch(rows(2));
    expect(res.out).toEqual([]);
    expect(res.errors).toHaveLength(2);
    const big = await sandbox("(r) => ({ s: 'x'.repeat(1 << 28) })", "map", { memoryMb: 32, timeoutMs: 2_000 });
    const r2 = await big.runBatch(rows(1));
    expect(r2.out).toEqual([]);
    expect(r2.errors).toHaveLength(1);
  }, 30_000);

  it("many failing sandboxes leave no isolate behind and the host heap stays flat", async () => {
    const before = liveIsolates();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let k = 0; k < 25; k++) {
      const s = await UdfSandbox.create("(r) => { if (r.i % 2) throw new Error('x'.repeat(1000)); if (r.i === 4) for(;;){} return r; }", "map", { memoryMb: 8, timeoutMs: 20 });
      const res = await s.runBatch(rows(6));
      expectAccounted(res, 6);
      s.dispose();
    }
    expect(liveIsolates()).toBe(before);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(50 * 1024 * 1024);
  }, 60_000);

  it("a disposed sandbox refuses work and frees its isolate", async () => {
    const before = liveIsolates();
    const s = await UdfSandbox.create("(r) => r", "map", LIMITS);
    expect(liveIsolates()).toBe(before + 1);
    s.dispose();
    s.dispose();
    expect(liveIsolates()).toBe(before);
    await expect(s.runBatch(rows(1))).rejects.toThrow(/disposed/);
  });
});

describe("compile checks", () => {
  it("UdfSandbox.create rejects sources that do not compile or are not functions", async () => {
    const before = liveIsolates();
    await expect(UdfSandbox.create("(r) => r +", "map", LIMITS)).rejects.toBeInstanceOf(UdfCompileError);
    await expect(UdfSandbox.create("({ a: 1 })", "map", LIMITS)).rejects.toThrow(/function expression/);
    await expect(UdfSandbox.create("(() => { for (;;) {} })()", "map", LIMITS)).rejects.toThrow(/longer than/);
    expect(liveIsolates()).toBe(before);
  });

  it("validateUdfSource returns diagnostics with the path", () => {
    expect(validateUdfSource("(r) => r", "map")).toEqual([]);
    expect(validateUdfSource("", "map")[0]).toMatchObject({ severity: "error", path: "function.inline.source" });
    expect(validateUdfSource("(r) => {", "map")[0].message).toMatch(/^syntax error/);
    expect(validateUdfSource("42", "filter")[0].message).toContain("must be a function expression");
  });

  it("buildUdf resolves registry functions, reports unknown ones and derives the output schema", () => {
    const input = [{ name: "i", type: "int" as const }];
    const lookup = (name: string, version?: number) =>
      name === "enrich" && (version === undefined || version === 2) ? { name, version: 2, source: "(r) => ({ ...r, x: 1 })", form: "map" as const } : undefined;
    const ok = buildUdf({ function: { name: "enrich" }, timeoutMs: 1_000, memoryMb: 64, outputSchema: [...input, { name: "x", type: "int" }] }, input, lookup);
    expect(ok.diagnostics).toEqual([]);
    expect(ok.resolved).toMatchObject({ name: "enrich", version: 2, form: "map" });
    expect(ok.outputSchema?.map((f) => f.name)).toEqual(["i", "x"]);
    const missing = buildUdf({ function: { name: "enrch" }, timeoutMs: 1_000, memoryMb: 64 }, input, lookup, () => ["enrich"]);
    expect(missing.diagnostics[0]).toMatchObject({ code: "unknown-function", path: "function.name" });
    expect(missing.diagnostics[0].message).toContain('did you mean "enrich"');
    const noSchema = buildUdf({ function: { inline: { source: "(r) => r", form: "map" } }, timeoutMs: 1_000, memoryMb: 64 }, input);
    expect(noSchema.diagnostics.map((d) => d.code)).toEqual(["udf-output-schema"]);
    expect(noSchema.outputSchema).toEqual(input);
    const bad = buildUdf({ function: { inline: { source: "(r) =>", form: "filter" } }, timeoutMs: 1_000, memoryMb: 64 }, input);
    expect(bad.resolved).toBeUndefined();
    expect(bad.diagnostics[0].path).toBe("function.inline.source");
  });
});

describe("host stays responsive", () => {
  it("the event loop keeps running while a batch loops, and concurrent batches are serialised correctly", async () => {
    const s = await sandbox("(r) => { if (r.i === 1) for (;;) {} return { i: r.i }; }", "map", { memoryMb: 32, timeoutMs: 300 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const [a, b] = await Promise.all([s.runBatch(rows(3)), s.runBatch([{ i: 7 }])]);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(5);
    expect(a.outIndex).toEqual([0, 2]);
    expect(a.errors.map((e) => e.index)).toEqual([1]);
    expect(b.out).toEqual([{ i: 7 }]);
  });
});

describe("UdfSandbox.runEncoded (values in, values out)", () => {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const values = (n: number) => rows(n).map((r) => enc.encode(JSON.stringify(r)));
  const texts = (vs: Uint8Array[]) => vs.map((v) => dec.decode(v));

  it("lists values the function cannot read as unread, and checks the source schema in the isolate", async () => {
    const s = await sandbox("(r) => ({ i: r.i })");
    const input = [enc.encode('{"i":0}'), null, enc.encode("{nope"), enc.encode("[1]"), new Uint8Array([0xff]), enc.encode('{"i":"x"}'), enc.encode('{"i":6,"s":"\u0001"}'), enc.encode('{"i":7}')];
    const res = await s.runEncoded(input);
    expect(texts(res.values)).toEqual(['{"i":0}', '{"i":"x"}', '{"i":7}']);
    expect(res.outIndex).toEqual([0, 5, 7]);
    expect(res.unread).toEqual([1, 2, 3, 4, 6]);
    const checked = await s.runEncoded(input, { check: recordCheckSource([{ name: "i", type: "int" }]) });
    expect(checked.outIndex).toEqual([0, 7]);
    expect(checked.unread).toEqual([1, 2, 3, 4, 5, 6]);
    // The check is per call: without it the same isolate reads "x" again.
    expect((await s.runEncoded(input)).outIndex).toEqual([0, 5, 7]);
  });

  it("an infinite loop errors only the looping record, within the time bound", async () => {
    const s = await sandbox("(r) => { if (r.i === 2) for (;;) {} return r; }");
    const t = performance.now();
    const res = await s.runEncoded(values(5));
    expect(performance.now() - t).toBeLessThan(2 * LIMITS.timeoutMs + 500);
    expect(res.outIndex).toEqual([0, 1, 3, 4]);
    expect(res.errors).toEqual([{ index: 2, reason: `function exceeded the time limit of ${LIMITS.timeoutMs} ms` }]);
  });

  it("a memory bomb errors only its record; indices stay those of the input values", async () => {
    const s = await sandbox("(r) => { if (r.i === 5) { const a = []; for (;;) a.push(new Array(1e5).fill(r.i)); } return r; }", "map", { memoryMb: 16, timeoutMs: 5_000 });
    const input: (Uint8Array | null)[] = [null, ...values(8)];
    const res = await s.runEncoded(input);
    expect(res.errors).toEqual([{ index: 6, reason: "function exceeded its memory limit of 16 MB" }]);
    expect(res.outIndex).toEqual([1, 2, 3, 4, 5, 7, 8]);
    expect(res.unread).toEqual([0]);
    expect(s.isolatesCreated).toBeGreaterThan(1);
  }, 30_000);

  it("a function that breaks built-ins cannot forge output lines: every value is a JSON object or the chunk errors", async () => {
    const s = await sandbox(`(r) => {
      Object.defineProperty(Array.prototype, "0", { set() {}, get() { return '{"forged":1}\\n{"x":'; }, configurable: true });
      String.prototype.split = () => ["{}"];
      Object.prototype.toJSON = function () { return r.i % 2 ? this : "not an object"; };
      return { i: r.i };
    }`);
    for (let round = 0; round < 3; round++) {
      const res = await s.runEncoded(values(6));
      expectAccounted(res, 6);
      for (const v of res.values) {
        const parsed = JSON.parse(dec.decode(v));
        expect(parsed).not.toHaveProperty("forged");
        expect(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)).toBe(true);
      }
    }
  });

  it("leaves no isolate behind", async () => {
    const before = liveIsolates();
    for (let k = 0; k < 10; k++) {
      const s = await UdfSandbox.create("(r) => { if (r.i === 3) for(;;){} return r; }", "filter", { memoryMb: 8, timeoutMs: 20 });
      const res = await s.runEncoded(values(6));
      expect(res.values.length + res.errors.length).toBe(6);
      s.dispose();
    }
    expect(liveIsolates()).toBe(before);
  });
});
