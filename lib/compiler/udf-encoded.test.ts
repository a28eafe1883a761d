import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { liveIsolates } from "@/lib/udf";
import type { UdfForm } from "@/lib/pipeline/nodes/udf";
import { parsePipeline } from "@/lib/pipeline/parse";
import type { Plan } from "./plan";
import { compilePipeline } from "./plan";
import type { StreamSchema } from "@/lib/pipeline/schema";

/**
 * The encoded route (Source → UDF → Sink on bytes, plan.ts encodedRoutes)
 * against the object path (`fuse: false`: decode, runBatch, encode) on the
 * same values: same output bytes, rows, metas, errors and per-node counts.
 */

const schema: StreamSchema = [
  { name: "id", type: "int" },
  { name: "name", type: "string", nullable: true },
  { name: "tags", type: { list: "string" }, nullable: true },
  { name: "geo", type: { struct: [{ name: "lat", type: "float" }, { name: "ok", type: "bool", nullable: true }] }, nullable: true },
  { name: "ts", type: "timestamp", nullable: true },
];
const ctx = { streams: (n: string) => (n === "ods.in" ? { schema } : undefined) };

/** Functions that exercise every outcome: outputs, throws, wrong shapes, unencodable records, key order, "__proto__". */
const FUNCTIONS: { form: UdfForm; source: string }[] = [
  { form: "map", source: "(r) => ({ id: r.id, up: typeof r.name === 'string' ? r.name.toUpperCase() : null, n: (r.tags || []).length })" },
  {
    form: "map",
    source: `(r) => {
      const k = typeof r.id === "number" ? Math.abs(r.id) % 9 : 8;
      if (k === 0) throw new RangeError("id " + r.id);
      if (k === 1) return [r];
      if (k === 2) return null;
      if (k === 3) { const a = { id: r.id }; a.self = a; return a; }
      if (k === 4) return { big: 1n };
      if (k === 5) throw "plain " + r.name;
      if (k === 6) return JSON.parse('{"__proto__": {"x": 1}, "id": ' + JSON.stringify(r.id ?? null) + '}');
      if (k === 7) return { 10: "ten", b: undefined, a: r.geo, 2: r.ts, f() {} };
      return { ...r, extra: "é\\u2028\\n" };
    }`,
  },
  {
    form: "flatMap",
    source: `(r) => {
      const k = typeof r.id === "number" ? Math.abs(r.id) % 5 : 4;
      if (k === 0) return [];
      if (k === 1) return [{ i: 0, id: r.id }, { i: 1, name: r.name }];
      if (k === 2) return [{ ok: 1 }, 7];
      if (k === 3) return { not: "a list" };
      throw new Error("no " + JSON.stringify(r).length);
    }`,
  },
  { form: "filter", source: "(r) => { const k = typeof r.id === 'number' ? Math.abs(r.id) % 4 : 3; if (k === 3) r.id = -1; return k === 0 ? 'yes' : k === 1 || k === 3 ? true : false; }" },
];

const plans: Plan[] = [];
function compileBoth(fn: (typeof FUNCTIONS)[number], sinks: number, checkSourceSchema: boolean) {
  const parsed = parsePipeline({
    version: 1,
    nodes: [
      { id: "src", type: "source", config: { stream: "ods.in" } },
      { id: "fn", type: "udf", config: { function: { inline: fn }, memoryMb: 64, timeoutMs: 2_000 } },
      ...Array.from({ length: sinks }, (_, k) => ({ id: `out${k}`, type: "sink" as const, config: { stream: `dwd.out${k}` } })),
    ],
    edges: [{ source: "src", target: "fn" }, ...Array.from({ length: sinks }, (_, k) => ({ source: "fn", target: `out${k}` }))],
  });
  if (!parsed.pipeline) throw new Error(JSON.stringify(parsed.diagnostics));
  const encoded = compilePipeline(parsed.pipeline, ctx, { checkSourceSchema });
  const objects = compilePipeline(parsed.pipeline, ctx, { checkSourceSchema, fuse: false });
  plans.push(encoded, objects);
  return { encoded, objects };
}

afterAll(async () => {
  for (const p of plans) p.dispose();
  await new Promise((r) => setTimeout(r, 50));
  expect(liveIsolates()).toBe(0);
});

const enc = new TextEncoder();
const dec = new TextDecoder();

const record = fc.record(
  {
    id: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.double({ noNaN: true }), fc.string({ maxLength: 3 }), fc.constant(null)),
    name: fc.oneof(fc.string({ unit: "grapheme", maxLength: 8 }), fc.string({ unit: "binary", maxLength: 4 }), fc.constant(null), fc.integer()),
    tags: fc.oneof(fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.constant(null)), { maxLength: 3 }), fc.constant("x")),
    geo: fc.oneof(fc.record({ lat: fc.double({ noNaN: true, noDefaultInfinity: true }), ok: fc.option(fc.boolean()) }), fc.constant([1])),
    ts: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.constant("2026-01-01")),
    ["__proto__"]: fc.constant({ polluted: true }),
  },
  { requiredKeys: [] },
);

/** Kafka values: mostly JSON object records, some in unusual but valid spellings, and every kind of bad value. */
const value: fc.Arbitrary<Uint8Array | null> = fc.oneof(
  { weight: 12, arbitrary: record.map((r) => enc.encode(JSON.stringify(r))) },
  { weight: 2, arbitrary: record.map((r) => enc.encode(` \n${JSON.stringify(r, null, 1)}\t`)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '{"id": 1.0, "name": "\\u0041\\u00e9", "ts": 1e3}',
      '{"id": 3, "id": 4, "name": "dup"}',
      '{"id": 5, "name": "\\ud800 lone"}',
      '{"__proto__": {"id": 1}, "id": 6}',
      '{"id": 7, "name": "日本語 ✓"}',
    ).map((t) => enc.encode(t)),
  },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.constant(null),
      fc.constantFrom("{nope", "[1,2]", "42", '"text"', "null", "", '{"id":1}{"id":2}', '{"id": 8, "x": "\u0001"}', '{"a":1},{"b":2}').map((t) => enc.encode(t)),
      fc.constant(new Uint8Array([0x7b, 0x7d, 0xff])),
      fc.constant(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d])),
    ),
  },
);

/**
 * Runs random values through one randomly chosen pair of plans: the encoded
 * plan must give the same output bytes, sink metas, errors, per-node counts and
 * sink rows as the object path.
 */
async function expectSameAsObjectPath(pairs: { encoded: Plan; objects: Plan }[], numRuns: number) {
  await fc.assert(
    fc.asyncProperty(fc.array(value, { maxLength: 40 }), fc.nat(pairs.length - 1), async (values, which) => {
      const { encoded, objects } = pairs[which];
      const metas = values.map((_, i) => `m${i}`);
      const a = await encoded.processEncoded("ods.in", values, { metas });
      const b = await objects.processEncoded("ods.in", values, { metas });
      expect([...a.encoded].map(([k, vs]) => [k, vs.map((v) => dec.decode(v))])).toEqual([...b.encoded].map(([k, vs]) => [k, vs.map((v) => dec.decode(v))]));
      expect(a.sinkMetas).toEqual(b.sinkMetas);
      expect(a.errors).toEqual(b.errors);
      expect(a.perNode).toEqual(b.perNode);
      for (const [k, rows] of b.sinks) expect([...a.sinks.get(k)!], k).toEqual(rows);
    }),
    { numRuns },
  );
}

describe("encoded UDF route equals the object path (property)", () => {
  it("is chosen only for Source → UDF → Sink(s), and not with fuse: false", () => {
    const { encoded, objects } = compileBoth(FUNCTIONS[0], 2, false);
    expect(encoded.encodedRoutes).toEqual([{ source: "src", udf: "fn", sinks: ["out0", "out1"] }]);
    expect(objects.encodedRoutes).toEqual([]);
  });

  it("is not chosen where the host needs the rows: a UDF mid-graph, a Source with other consumers, a UDF feeding more than Sinks", () => {
    const udf = { id: "fn", type: "udf" as const, config: { function: { inline: FUNCTIONS[0] } } };
    const shapes = [
      {
        nodes: [{ id: "src", type: "source", config: { stream: "ods.in" } }, udf, { id: "f", type: "filter", config: { predicate: "true" } }, { id: "out", type: "sink", config: { stream: "dwd.a" } }],
        edges: [{ source: "src", target: "fn" }, { source: "fn", target: "f" }, { source: "f", target: "out" }],
      },
      {
        nodes: [{ id: "src", type: "source", config: { stream: "ods.in" } }, udf, { id: "out", type: "sink", config: { stream: "dwd.a" } }, { id: "raw", type: "sink", config: { stream: "dwd.b" } }],
        edges: [{ source: "src", target: "fn" }, { source: "fn", target: "out" }, { source: "src", target: "raw" }],
      },
      {
        nodes: [{ id: "src", type: "source", config: { stream: "ods.in" } }, udf, { id: "out", type: "sink", config: { stream: "dwd.a" } }, { id: "f", type: "filter", config: { predicate: "true" } }, { id: "other", type: "sink", config: { stream: "dwd.b" } }],
        edges: [{ source: "src", target: "fn" }, { source: "fn", target: "out" }, { source: "fn", target: "f" }, { source: "f", target: "other" }],
      },
    ];
    for (const shape of shapes) {
      const parsed = parsePipeline({ version: 1, ...shape });
      if (!parsed.pipeline) throw new Error(JSON.stringify(parsed.diagnostics));
      const plan = compilePipeline(parsed.pipeline, ctx);
      plans.push(plan);
      expect(plan.encodedRoutes, JSON.stringify(shape.edges)).toEqual([]);
    }
  });

  it("takes the object path for the live preview, which needs every node's rows", async () => {
    const { encoded } = compileBoth(FUNCTIONS[0], 1, false);
    const r = await encoded.processEncoded("ods.in", [enc.encode('{"id":1,"name":"a"}')], { capture: true });
    expect(r.outputs!.get("src")!.get("out")).toEqual([{ id: 1, name: "a" }]);
    expect(r.outputs!.get("fn")!.get("out")).toEqual([{ id: 1, up: "A", n: 0 }]);
    expect(dec.decode(r.encoded.get("out0")![0])).toBe('{"id":1,"up":"A","n":0}');
  });

  for (const [f, fn] of FUNCTIONS.entries()) {
    it(`gives the same values, rows, metas, errors and counts (${fn.form} #${f})`, async () => {
      const both = [false, true].flatMap((check) => [1, 2].map((sinks) => compileBoth(fn, sinks, check)));
      await expectSameAsObjectPath(both, 60);
    });
  }

  for (const [f, fn] of FUNCTIONS.entries()) {
    it(`writes a UDF tail's outputs as the isolate encoded them, as the object path would (${fn.form} #${f} after a Filter)`, async () => {
      const variants = [false, true].flatMap((checkSourceSchema) =>
        [1, 2].map((sinks) => {
          const parsed = parsePipeline({
            version: 1,
            nodes: [
              { id: "src", type: "source", config: { stream: "ods.in" } },
              { id: "keep", type: "filter", config: { predicate: "id != 13" } },
              { id: "fn", type: "udf", config: { function: { inline: fn }, memoryMb: 64, timeoutMs: 2_000 } },
              ...Array.from({ length: sinks }, (_, k) => ({ id: `out${k}`, type: "sink" as const, config: { stream: `dwd.out${k}` } })),
            ],
            edges: [{ source: "src", target: "keep" }, { source: "keep", target: "fn" }, ...Array.from({ length: sinks }, (_, k) => ({ source: "fn", target: `out${k}` }))],
          });
          if (!parsed.pipeline) throw new Error(JSON.stringify(parsed.diagnostics));
          const encoded = compilePipeline(parsed.pipeline, ctx, { checkSourceSchema });
          const objects = compilePipeline(parsed.pipeline, ctx, { checkSourceSchema, fuse: false });
          plans.push(encoded, objects);
          expect(encoded.encodedRoutes).toEqual([]);
          expect(encoded.encodedTails).toEqual([{ udf: "fn", sinks: Array.from({ length: sinks }, (_, k) => `out${k}`) }]);
          expect(objects.encodedTails).toEqual([]);
          return { encoded, objects };
        }),
      );
      await expectSameAsObjectPath(variants, 40);
    });
  }

  it("splits batches larger than one isolate chunk the same way", async () => {
    const { encoded, objects } = compileBoth(FUNCTIONS[1], 1, true);
    const values = Array.from({ length: 1_500 }, (_, i) => (i % 97 === 0 ? enc.encode("{bad") : enc.encode(JSON.stringify({ id: i, name: `n${i}`, tags: ["a"], ts: i }))));
    const a = await encoded.processEncoded("src", values);
    const b = await objects.processEncoded("src", values);
    expect(a.encoded.get("out0")!.map((v) => dec.decode(v))).toEqual(b.encoded.get("out0")!.map((v) => dec.decode(v)));
    expect(a.errors).toEqual(b.errors);
    expect(a.perNode).toEqual(b.perNode);
    // Every outcome occurs, so the comparison covers them.
    expect(new Set(a.errors.map((e) => e.reason.split(/[: ]/)[0]))).toEqual(new Set(["record", "function", "map"]));
    expect(a.perNode.get("fn")).toMatchObject({ in: 1_484 });
  });
});
