import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalHash, canonicalHashes } from "./canonical";
import type { Pipeline, PipelineInput } from "@/lib/pipeline/nodes";
import { parsePipeline } from "@/lib/pipeline/parse";
import { randomPipeline } from "@/lib/pipeline/testing/random-pipeline";

function pipeline(input: PipelineInput): Pipeline {
  const r = parsePipeline(input);
  if (!r.pipeline) throw new Error(JSON.stringify(r.diagnostics));
  return r.pipeline;
}

/** Renames node ids, moves nodes, shuffles node/edge order and reverses JSON key order. */
function disguise(input: PipelineInput, rename: (id: string) => string, seed: number): PipelineInput {
  const reverseKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(reverseKeys);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)]));
    return v;
  };
  const rotate = <T>(xs: T[]) => (xs.length === 0 ? xs : [...xs.slice(seed % xs.length), ...xs.slice(0, seed % xs.length)]);
  return reverseKeys({
    version: 1,
    nodes: rotate(input.nodes.map((n) => ({ ...n, id: rename(n.id), position: { x: seed, y: -seed } }))),
    edges: rotate((input.edges ?? []).map((e) => ({ ...e, source: rename(e.source), target: rename(e.target) }))).reverse(),
  }) as PipelineInput;
}

describe("canonicalHash", () => {
  it("is invariant under id renaming, positions, node/edge order and key order (property)", () => {
    fc.assert(
      fc.property(randomPipeline, fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom(..."abcXYZ0123_-") }), fc.nat(20), (input, salt, seed) => {
        const rename = (id: string) => `${salt}${id.split("").reverse().join("")}`;
        const a = pipeline(input);
        const b = pipeline(disguise(input, rename, seed));
        for (const n of a.nodes) expect(canonicalHash(b, rename(n.id))).toBe(canonicalHash(a, n.id));
      }),
      { numRuns: 200 },
    );
  });

  it("changes for every node downstream of a change in logic (property)", () => {
    fc.assert(
      fc.property(randomPipeline, (input) => {
        const filters = input.nodes.filter((n) => n.type === "filter");
        fc.pre(filters.length > 0);
        const target = filters[0].id;
        const changed: PipelineInput = {
          ...input,
          nodes: input.nodes.map((n) => (n.id === target && n.type === "filter" ? { ...n, config: { predicate: `(${n.config.predicate}) && a != 12345` } } : n)),
        };
        const a = pipeline(input);
        const b = pipeline(changed);
        const downstream = new Set([target]);
        for (let grew = true; grew; ) {
          grew = false;
          for (const e of a.edges) if (downstream.has(e.source) && !downstream.has(e.target)) (downstream.add(e.target), (grew = true));
        }
        for (const n of a.nodes) {
          const same = canonicalHash(a, n.id) === canonicalHash(b, n.id);
          expect(same, n.id).toBe(!downstream.has(n.id));
        }
      }),
      { numRuns: 200 },
    );
  });

  const base = (fields: unknown[], predicate = "amount > 10.0", stream = "ods.clicks"): PipelineInput => ({
    version: 1,
    nodes: [
      { id: "s", type: "source", config: { stream } },
      { id: "f", type: "filter", config: { predicate } },
      { id: "p", type: "projection", config: { fields: fields as never } },
      { id: "k", type: "sink", config: { stream: "dwd.x" } },
    ],
    edges: [
      { source: "s", target: "f" },
      { source: "f", target: "p" },
      { source: "p", target: "k" },
    ],
  });
  const hash = (input: PipelineInput, id = "k") => canonicalHash(pipeline(input), id);
  const fields = [{ name: "u", from: "user" }, { name: "c", expr: "country.lowerAscii()" }];

  it("ignores projection field order and expression formatting", () => {
    expect(hash(base([...fields].reverse()))).toBe(hash(base(fields)));
    expect(hash(base(fields, "  (amount>10.0) "))).toBe(hash(base(fields)));
  });

  it("ignores call style: member and global calls of the same function hash the same", () => {
    expect(hash(base(fields, 'country.startsWith("F") && size(user) > 2'))).toBe(hash(base(fields, 'startsWith(country, "F") && user.size() > 2')));
    expect(hash(base(fields, "math.abs(amount) > 1.0"))).toBe(hash(base(fields, "abs(amount) > 1.0")));
    expect(hash(base(fields, "tags.all(t, t.size() > 1)"))).toBe(hash(base(fields, "tags.all(t, size(t) > 1)")));
    expect(hash(base(fields, 'country.startsWith("F")'))).not.toBe(hash(base(fields, 'country.endsWith("F")')));
  });

  it("distinguishes different logic", () => {
    const h = hash(base(fields));
    expect(hash(base(fields, "amount > 11.0"))).not.toBe(h);
    expect(hash(base(fields, "amount > 10.0", "ods.views"))).not.toBe(h);
    expect(hash(base([{ name: "u", from: "user" }]))).not.toBe(h);
    expect(hash(base([{ name: "user", from: "user" }, fields[1]]))).not.toBe(h);
    expect(hash(base([{ name: "u", from: "user", cast: "string" }, fields[1]]))).not.toBe(h);
  });

  it("gives a sink its input's hash, whatever stream it writes", () => {
    const p = pipeline(base(fields));
    expect(canonicalHash(p, "k")).toBe(canonicalHash(p, "p"));
  });

  it("identifies split outputs by condition, not by name", () => {
    const split = (name: string, mode: "first" | "all" = "first"): PipelineInput => ({
      version: 1,
      nodes: [
        { id: "s", type: "source", config: { stream: "ods.clicks" } },
        { id: "sp", type: "split", config: { outputs: [{ name, condition: "amount > 1.0" }, { name: "other", condition: "amount < 0.0" }], mode } },
        { id: "k", type: "sink", config: { stream: "x" } },
        { id: "k2", type: "sink", config: { stream: "y" } },
      ],
      edges: [
        { source: "s", target: "sp" },
        { source: "sp", sourcePort: name, target: "k" },
        { source: "sp", sourcePort: "other", target: "k2" },
      ],
    });
    expect(hash(split("big"))).toBe(hash(split("large")));
    expect(hash(split("big"))).not.toBe(hash(split("big"), "k2"));
    expect(hash(split("big", "all"))).not.toBe(hash(split("big")));
  });

  it("treats union inputs as unordered, and their port names as logic only with sourceField", () => {
    const union = (ports: [string, string], sourceField?: string, swap = false): PipelineInput => {
      const edges = [
        { source: "a", target: "u", targetPort: ports[0] },
        { source: "b", target: "u", targetPort: ports[1] },
      ];
      return {
        version: 1,
        nodes: [
          { id: "a", type: "source", config: { stream: "ods.clicks" } },
          { id: "b", type: "source", config: { stream: "ods.views" } },
          { id: "u", type: "union", config: sourceField ? { sourceField } : {} },
          { id: "k", type: "sink", config: { stream: "x" } },
        ],
        edges: [...(swap ? edges.reverse() : edges), { source: "u", target: "k" }],
      };
    };
    expect(hash(union(["x", "y"]))).toBe(hash(union(["x", "y"], undefined, true)));
    expect(hash(union(["x", "y"]))).toBe(hash(union(["p", "q"])));
    expect(hash(union(["x", "y"], "src"))).not.toBe(hash(union(["p", "q"], "src")));
    expect(hash(union(["x", "y"], "src"))).toBe(hash(union(["x", "y"], "src", true)));
  });
});

describe("canonicalHashes", () => {
  it("hashes deep diamonds in linear time and agrees with canonicalHash", () => {
    const nodes: PipelineInput["nodes"] = [{ id: "n0", type: "source", config: { stream: "ods.clicks" } }];
    const edges: NonNullable<PipelineInput["edges"]> = [];
    // 60 diamonds: each level fans out to two filters and unions them again.
    for (let i = 1; i <= 60; i++) {
      nodes.push({ id: `l${i}`, type: "filter", config: { predicate: `amount > ${i}.0` } });
      nodes.push({ id: `r${i}`, type: "filter", config: { predicate: `amount < ${i}.0` } });
      nodes.push({ id: `n${i}`, type: "union", config: {} });
      edges.push({ source: `n${i - 1}`, target: `l${i}` }, { source: `n${i - 1}`, target: `r${i}` });
      edges.push({ source: `l${i}`, target: `n${i}`, targetPort: "a" }, { source: `r${i}`, target: `n${i}`, targetPort: "b" });
    }
    nodes.push({ id: "k", type: "sink", config: { stream: "x" } });
    edges.push({ source: "n60", target: "k" });
    const p = pipeline({ version: 1, nodes, edges });
    const t = performance.now();
    const all = canonicalHashes(p);
    expect(performance.now() - t).toBeLessThan(1000);
    expect(Object.keys(all)).toHaveLength(nodes.length);
    expect(all.k).toBe(all.n60);
    expect(all.n30).toBe(canonicalHash(p, "n30"));
    expect(new Set(Object.values(all)).size).toBe(nodes.length - 1);
  });
});
