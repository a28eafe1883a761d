import { describe, expect, it } from "vitest";
import type { Diagnostic } from "@/lib/pipeline/diagnostics";
import type { PipelineInput } from "@/lib/pipeline/nodes";
import { parsePipeline } from "@/lib/pipeline/parse";
import type { StreamSchema } from "@/lib/pipeline/schema";
import { validatePipeline } from "./validate";

const clicks: StreamSchema = [
  { name: "user", type: "string" },
  { name: "country", type: "string" },
  { name: "amount", type: "float" },
];
const streams: Record<string, { schema: StreamSchema }> = {
  "ods.clicks": { schema: clicks },
  "ods.views": { schema: [{ name: "user", type: "string" }, { name: "country", type: "int" }] },
  "dwd.strict": { schema: [{ name: "user", type: "string" }, { name: "amount", type: "int" }, { name: "region", type: "string" }] },
  "dwd.loose": { schema: [{ name: "user", type: "string" }, { name: "country", type: "string", nullable: true }] },
};
const ctx = { streams: (n: string) => streams[n], streamNames: () => Object.keys(streams) };

type Nodes = PipelineInput["nodes"];
const src = (id = "s", stream = "ods.clicks") => ({ id, type: "source" as const, config: { stream } });
const sink = (id = "k", stream = "dwd.out") => ({ id, type: "sink" as const, config: { stream } });
const filter = (id: string, predicate: string) => ({ id, type: "filter" as const, config: { predicate } });
const chain = (...ids: string[]) => ids.slice(1).map((id, i) => ({ source: ids[i], target: id }));

function validate(nodes: Nodes, edges: PipelineInput["edges"]): Diagnostic[] {
  const parsed = parsePipeline({ version: 1, nodes, edges });
  if (!parsed.pipeline) throw new Error(JSON.stringify(parsed.diagnostics));
  return validatePipeline(parsed.pipeline, ctx).diagnostics;
}
const codes = (ds: Diagnostic[]) => ds.map((d) => d.code);

describe("parsePipeline", () => {
  it("accepts a valid definition and applies defaults", () => {
    const r = parsePipeline(JSON.stringify({ version: 1, nodes: [src(), sink()], edges: chain("s", "k") }));
    expect(r.pipeline?.edges[0]).toEqual({ source: "s", sourcePort: "out", target: "k", targetPort: "in" });
    expect(r.pipeline?.nodes[0].position).toEqual({ x: 0, y: 0 });
  });

  it("reports invalid JSON, unknown versions and bad configs on the node that has them", () => {
    expect(parsePipeline("{nope").diagnostics).toMatchObject([{ code: "invalid-json" }]);
    expect(parsePipeline({ version: 2, nodes: [] }).diagnostics).toMatchObject([{ code: "invalid-definition", path: "version" }]);
    const d = parsePipeline({ version: 1, nodes: [src(), { id: "p", type: "projection", config: { fields: [{ name: "1bad", from: "user" }] } }] }).diagnostics!;
    expect(d).toMatchObject([{ code: "invalid-config", nodeId: "p", path: "config.fields[0].name" }]);
    expect(parsePipeline({ version: 1, nodes: [{ id: "x", type: "teleport", config: {} }] }).diagnostics![0]).toMatchObject({ nodeId: "x", path: "type" });
  });
});

describe("validatePipeline graph rules", () => {
  it("accepts a well-formed pipeline and returns every node's schema", () => {
    const parsed = parsePipeline({ version: 1, nodes: [src(), filter("f", "amount > 1.0"), sink()], edges: chain("s", "f", "k") });
    const r = validatePipeline(parsed.pipeline!, ctx);
    expect(r.diagnostics).toEqual([]);
    expect(r.schemas.f).toEqual(clicks);
    expect(r.schemas.k).toEqual(clicks);
  });

  it("finds duplicate node ids", () => {
    expect(codes(validate([src(), sink(), sink()], chain("s", "k")))).toContain("duplicate-node-id");
  });

  it("finds edges to unknown nodes and ports", () => {
    expect(validate([src(), sink()], [{ source: "s", target: "kk" }])).toContainEqual(expect.objectContaining({ code: "unknown-node", path: "edges[0]", message: expect.stringMatching(/did you mean "k"/) }));
    expect(codes(validate([src(), sink()], [...chain("s", "k"), { source: "s", sourcePort: "other", target: "k" }]))).toContain("unknown-port");
    expect(codes(validate([src(), sink(), src("s2")], [...chain("s", "k"), { source: "k", target: "s2" }]))).toContain("unknown-port");
    expect(codes(validate([src(), sink()], [{ source: "s", target: "k", targetPort: "side" }]))).toContain("unknown-port");
  });

  it("finds duplicate edges and self loops", () => {
    expect(codes(validate([src(), sink()], [...chain("s", "k"), ...chain("s", "k")]))).toContain("duplicate-edge");
    expect(codes(validate([src(), filter("f", "true"), sink()], [...chain("s", "f", "k"), { source: "f", target: "f" }]))).toContain("cycle");
  });

  it("finds cycles and names the nodes on them", () => {
    const ds = validate(
      [src(), { id: "u", type: "union", config: {} }, filter("f", "amount > 1.0"), sink()],
      [{ source: "s", target: "u" }, { source: "f", target: "u", targetPort: "loop" }, { source: "u", target: "f" }, { source: "f", target: "k" }],
    );
    // k hangs below the cycle but is not on it.
    expect(ds.filter((d) => d.code === "cycle").map((d) => d.nodeId).sort()).toEqual(["f", "u"]);
  });

  it("checks port arity", () => {
    expect(validate([src(), { id: "u", type: "union", config: {} }, sink()], chain("s", "u", "k"))).toContainEqual(expect.objectContaining({ code: "arity", nodeId: "u", message: "a union needs at least 2 inputs, it has 1" }));
    expect(validate([src(), src("s2"), sink()], [...chain("s", "k"), ...chain("s2", "k")])).toContainEqual(expect.objectContaining({ code: "arity", nodeId: "k", message: expect.stringMatching(/takes one input, it has 2/) }));
    expect(validate([src(), filter("f", "true"), sink()], chain("s", "k"))).toContainEqual(expect.objectContaining({ code: "arity", nodeId: "f" }));
  });

  it("warns about split outputs that go nowhere", () => {
    const split = { id: "sp", type: "split" as const, config: { outputs: [{ name: "a", condition: 'country == "a"' }, { name: "b", condition: 'country == "b"' }], unmatched: "else" as const } };
    const ds = validate([src(), split, sink()], [...chain("s", "sp"), { source: "sp", sourcePort: "a", target: "k" }]);
    expect(ds.filter((d) => d.code === "unconnected-output").map((d) => d.message)).toEqual([
      'output "b" is not connected; its records are discarded',
      'output "else" is not connected; its records are discarded',
    ]);
  });

  it("requires every sink to be fed by a source and every node to reach a sink", () => {
    const ds = validate([src(), filter("f", "true"), filter("g", "true"), sink(), sink("k2")], [...chain("s", "f", "k"), ...chain("s", "g")]);
    expect(ds).toContainEqual(expect.objectContaining({ code: "dangling-node", nodeId: "g" }));
    expect(ds).toContainEqual(expect.objectContaining({ code: "unreachable-sink", nodeId: "k2" }));
    expect(codes(validate([sink()], []))).toEqual(expect.arrayContaining(["no-source", "unreachable-sink"]));
    expect(codes(validate([src()], []))).toEqual(expect.arrayContaining(["no-sink", "dangling-node"]));
  });
});

describe("validatePipeline schemas and expressions", () => {
  it("reports unknown streams with a suggestion", () => {
    expect(validate([src("s", "ods.clicsk"), sink()], chain("s", "k"))).toContainEqual(expect.objectContaining({ code: "unknown-stream", nodeId: "s", path: "config.stream", message: expect.stringMatching(/did you mean "ods.clicks"/) }));
  });

  it("type-checks expressions against the node's input schema, with field path and range", () => {
    const ds = validate([src(), filter("f", 'contry == "US"'), sink()], chain("s", "f", "k"));
    expect(ds).toEqual([
      { severity: "error", code: "unknown-field", nodeId: "f", path: "config.predicate", message: 'unknown field "contry" — did you mean "country"?', range: { start: 0, end: 6 } },
    ]);
  });

  it("reports syntax and type errors in expressions with their codes", () => {
    expect(validate([src(), filter("f", "amount >"), sink()], chain("s", "f", "k"))).toEqual([expect.objectContaining({ code: "syntax-error", nodeId: "f", path: "config.predicate", range: expect.objectContaining({ start: expect.any(Number) }) })]);
    expect(validate([src(), filter("f", 'amount > "10"'), sink()], chain("s", "f", "k"))).toEqual([expect.objectContaining({ code: "expression", message: expect.stringMatching(/> is not defined for \(double, string\)/) })]);
  });

  it("propagates schemas: a field removed upstream is unknown downstream", () => {
    const proj = { id: "p", type: "projection" as const, config: { fields: [{ name: "who", from: "user" }] } };
    const ds = validate([src(), proj, filter("f", "amount > 1.0"), sink()], chain("s", "p", "f", "k"));
    expect(ds).toContainEqual(expect.objectContaining({ code: "unknown-field", nodeId: "f" }));
    const ok = validate([src(), proj, filter("f", 'who != ""'), sink()], chain("s", "p", "f", "k"));
    expect(ok).toEqual([]);
  });

  it("does not cascade: nodes below a broken node are not reported again", () => {
    const ds = validate([src(), filter("f", "nope > 1"), filter("g", "amount > 1.0"), sink()], chain("s", "f", "g", "k"));
    expect(ds.map((d) => d.nodeId)).toEqual(["f"]);
  });

  it("warns about filters that are always true or always false", () => {
    expect(validate([src(), filter("f", "1 == 1"), sink()], chain("s", "f", "k"))).toMatchObject([{ severity: "warning", code: "constant-predicate", nodeId: "f", path: "config.predicate" }]);
  });

  it("says which fields differ between union inputs", () => {
    const ds = validate(
      [src(), src("v", "ods.views"), { id: "u", type: "union", config: {} }, sink()],
      [{ source: "s", target: "u", targetPort: "clicks" }, { source: "v", target: "u", targetPort: "views" }, ...chain("u", "k")],
    );
    expect(ds).toContainEqual(expect.objectContaining({ code: "union-schema-mismatch", nodeId: "u", message: expect.stringContaining('"country" is string in "clicks" but int in "views"') }));
  });

  it("checks what a sink writes against an existing stream's schema", () => {
    const ds = validate([src(), sink("k", "dwd.strict")], chain("s", "k"));
    expect(ds.filter((d) => d.code === "sink-schema-mismatch").map((d) => d.message)).toEqual([
      'stream "dwd.strict" has "amount" as int, but this pipeline produces float',
      'stream "dwd.strict" requires field "region" (string), which this pipeline does not produce',
    ]);
    expect(ds).toContainEqual(expect.objectContaining({ code: "sink-extra-fields", severity: "warning", message: expect.stringContaining('"country"') }));
    expect(validate([src(), sink("k", "dwd.loose")], chain("s", "k"))).toMatchObject([{ code: "sink-extra-fields" }]);
  });

  it("warns when a nullable field feeds a non-null field of the sink stream", () => {
    const proj = { id: "p", type: "projection" as const, config: { fields: [{ name: "user", expr: "user == \"\" ? null : user" }] } };
    const ds = validate([src(), proj, sink("k", "dwd.loose")], chain("s", "p", "k"));
    expect(ds).toEqual([expect.objectContaining({ severity: "warning", code: "sink-nullable", nodeId: "k", message: '"user" may be null here, but stream "dwd.loose" declares it non-null' })]);
  });

  it("refuses a pipeline that writes the stream it reads", () => {
    expect(validate([src(), sink("k", "ods.clicks")], chain("s", "k"))).toContainEqual(expect.objectContaining({ severity: "error", code: "feedback-loop", nodeId: "k", path: "config.stream" }));
  });

  it("warns about a union fed twice by the same output, and points out a split that is a filter", () => {
    const ds = validate(
      [src(), { id: "u", type: "union", config: {} }, sink()],
      [{ source: "s", target: "u", targetPort: "a" }, { source: "s", target: "u", targetPort: "b" }, ...chain("u", "k")],
    );
    expect(ds).toEqual([expect.objectContaining({ severity: "warning", code: "duplicate-input", nodeId: "u" })]);
    const split = { id: "sp", type: "split" as const, config: { outputs: [{ name: "big", condition: "amount > 1.0" }] } };
    expect(validate([src(), split, sink()], [...chain("s", "sp"), { source: "sp", sourcePort: "big", target: "k" }])).toEqual([expect.objectContaining({ severity: "info", code: "split-as-filter" })]);
  });

  it("never throws, even on degenerate graphs", () => {
    expect(validate([], [])).toMatchObject([{ code: "no-source" }, { code: "no-sink" }]);
  });
});

describe("node config JSON Schemas", () => {
  it("exist for every node type and carry the zod constraints", async () => {
    const { NODE_TYPES, nodeConfigJsonSchema } = await import("@/lib/pipeline/nodes");
    for (const t of NODE_TYPES) expect(nodeConfigJsonSchema(t).type).toBe("object");
    const split = nodeConfigJsonSchema("split") as { properties: { outputs: { minItems: number }; mode: { enum: string[] } }; required: string[] };
    expect(split.properties.outputs.minItems).toBe(1);
    expect(split.properties.mode.enum).toEqual(["first", "all"]);
    expect(split.required).toEqual(["outputs"]);
  });
});

describe("Window late port", () => {
  it("carries the Window's input records: a Sink on it is checked against the input schema, not the window rows", () => {
    const win = { id: "w", type: "window" as const, config: { window: { kind: "tumbling" as const, size: "1m" }, keys: [{ name: "user", expr: "user" }], aggregates: [{ name: "n", fn: "count" as const }] } };
    const nodes: Nodes = [src(), win, sink("k", "dwd.counts"), sink("late", "dwd.loose")];
    const edges = [{ source: "s", target: "w" }, { source: "w", target: "k" }, { source: "w", sourcePort: "late", target: "late" }];
    const ds = validate(nodes, edges).filter((d) => d.nodeId === "late");
    // dwd.loose (user, country) matches the clicks' fields; the window's rows (user, window_start, window_end, n) would not.
    expect(ds.filter((d) => d.severity === "error")).toEqual([]);
    expect(ds.map((d) => d.message).join(" ")).not.toContain("window_start");
  });
});
