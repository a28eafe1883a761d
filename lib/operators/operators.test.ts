import { describe, expect, it } from "vitest";
import { filterNodeConfig } from "@/lib/pipeline/nodes/filter";
import { projectionNodeConfig } from "@/lib/pipeline/nodes/projection";
import { splitNodeConfig } from "@/lib/pipeline/nodes/split";
import type { Row, StreamSchema } from "@/lib/pipeline/schema";
import { buildFilter, runFilter } from "./filter";
import { buildProjection, runProjection } from "./projection";
import { buildSplit, runSplit } from "./split";
import type { Batch } from "./types";
import { buildUnion } from "./union";

const schema: StreamSchema = [
  { name: "id", type: "int" },
  { name: "name", type: "string" },
  { name: "price", type: "float" },
  { name: "qty", type: "string" },
  { name: "user", type: { struct: [{ name: "id", type: "string" }, { name: "geo", type: { struct: [{ name: "city", type: "string" }] } }] } },
  { name: "note", type: "string", nullable: true },
];
const rows: Row[] = [
  { id: 1, name: "a", price: 10, qty: "3", user: { id: "u1", geo: { city: "Paris" } }, note: null },
  { id: 2, name: "b", price: 2.5, qty: "x", user: { id: "u2", geo: { city: "Oslo" } }, note: "n" },
  { id: 3, name: "c", price: 7, qty: "1", user: { id: "u3", geo: { city: "Rome" } }, note: null },
];
const batch = (rs: Row[] = rows): Batch => ({ rows: rs, metas: rs.map((r) => `m${r.id as number}`) });

function projection(config: unknown) {
  const built = buildProjection("p", projectionNodeConfig.parse(config), schema);
  if (!built.op) throw new Error(JSON.stringify(built.diagnostics));
  return built;
}

describe("Filter", () => {
  it("keeps matching records with their metas and counts the rest", () => {
    const { op } = buildFilter("f", filterNodeConfig.parse({ predicate: "price > 5.0" }), schema);
    const r = runFilter(op!, batch());
    expect(r.out.rows.map((x) => x.id)).toEqual([1, 3]);
    expect(r.out.metas).toEqual(["m1", "m3"]);
    expect(r.filtered).toBe(1);
    expect(r.errors).toEqual([]);
  });

  it("turns a per-record failure into an error record with the reason", () => {
    const { op } = buildFilter("f", { predicate: "int(qty) > 1" }, schema);
    const r = runFilter(op!, batch());
    expect(r.out.rows.map((x) => x.id)).toEqual([1]);
    expect(r.errors).toEqual([{ nodeId: "f", reason: 'cannot convert "x" to int', record: rows[1], meta: "m2" }]);
    expect(r.filtered).toBe(1);
  });

  it("checks dynamic predicate results at run time", () => {
    const { op } = buildFilter("f", { predicate: "dyn(name)" }, schema);
    const r = runFilter(op!, batch([rows[0]]));
    expect(r.errors[0].reason).toBe("predicate produced string, not a bool");
  });

  it("warns about constant predicates", () => {
    expect(buildFilter("f", { predicate: "1 < 2" }, schema).diagnostics).toMatchObject([{ severity: "warning", code: "constant-predicate", message: expect.stringMatching(/always true/) }]);
    expect(buildFilter("f", { predicate: "id > 1 && false" }, schema).diagnostics).toMatchObject([{ code: "constant-predicate", message: expect.stringMatching(/always false/) }]);
  });

  it("refuses non-bool predicates and unknown fields", () => {
    expect(buildFilter("f", { predicate: "price" }, schema).diagnostics[0]).toMatchObject({ path: "predicate", message: "expression must produce bool, but produces double" });
    expect(buildFilter("f", { predicate: "nme == 'a'" }, schema).diagnostics[0]).toMatchObject({ code: "unknown-field", range: { start: 0, end: 3 } });
  });
});

describe("Projection", () => {
  it("selects, renames and computes fields in the listed order", () => {
    const { op, outputSchema } = projection({ fields: [{ name: "total", expr: "price * 2.0" }, { name: "label", from: "name" }, { name: "city", from: "user.geo.city" }] });
    expect(runProjection(op!, batch([rows[0]])).out.rows).toEqual([{ total: 20, label: "a", city: "Paris" }]);
    expect(outputSchema).toEqual([
      { name: "total", type: "float" },
      { name: "label", type: "string" },
      { name: "city", type: "string" },
    ]);
  });

  it("keeps other fields, dropping listed ones and moving renamed ones", () => {
    const { op, outputSchema } = projection({ fields: [{ name: "product", from: "name" }], keepOthers: true, drop: ["user", "qty"] });
    expect(op!.project(rows[1])).toEqual({ product: "b", id: 2, price: 2.5, note: "n" });
    expect(outputSchema!.map((f) => f.name)).toEqual(["product", "id", "price", "note"]);
  });

  it("casts values and reports values that cannot convert", () => {
    const { op, outputSchema } = projection({ fields: [{ name: "qty", from: "qty", cast: "int" }, { name: "id", from: "id", cast: "string" }, { name: "p", from: "price", cast: "bool" }] });
    const r = runProjection(op!, batch());
    expect(r.out.rows).toEqual([
      { qty: 3, id: "1", p: true },
      { qty: 1, id: "3", p: true },
    ]);
    expect(r.errors).toEqual([{ nodeId: "p", reason: 'cannot cast string "x" to int', record: rows[1], meta: "m2" }]);
    expect(outputSchema!.map((f) => f.type)).toEqual(["int", "string", "bool"]);
  });

  it.each([
    ["float", "2.5", 2.5],
    ["timestamp", "2024-01-01T00:00:00Z", Date.UTC(2024, 0, 1)],
    ["timestamp", "1700000000000", 1700000000000],
    ["bool", "false", false],
    ["json", "x", "x"],
    ["string", "x", "x"],
  ])("casts a string to %s", (cast, value, expected) => {
    const { op } = projection({ fields: [{ name: "v", from: "qty", cast }] });
    expect(op!.project({ ...rows[0], qty: value }).v).toEqual(expected);
  });

  it("refuses impossible casts", () => {
    const built = buildProjection("p", projectionNodeConfig.parse({ fields: [{ name: "u", from: "user", cast: "int" }] }), schema);
    expect(built.diagnostics[0]).toMatchObject({ code: "invalid-cast", path: "fields[0].cast" });
    expect(built.op).toBeUndefined();
  });

  it("flattens nested structs into separator-joined leaves", () => {
    const { op, outputSchema } = projection({ fields: [{ name: "id", from: "id" }, { name: "user", from: "user" }], flatten: [{ field: "user", separator: "__" }] });
    expect(op!.project(rows[0])).toEqual({ id: 1, user__id: "u1", user__geo__city: "Paris" });
    expect(outputSchema!.map((f) => f.name)).toEqual(["id", "user__id", "user__geo__city"]);
    expect(op!.project({ ...rows[0], user: null })).toEqual({ id: 1, user__id: null, user__geo__city: null });
  });

  it("treats a missing copied value as null", () => {
    const { op } = projection({ fields: [{ name: "n", from: "note" }, { name: "c", from: "user.geo.city" }] });
    expect(op!.project({ id: 1 })).toEqual({ n: null, c: null });
  });

  it("never mutates its input", () => {
    const { op } = projection({ fields: [{ name: "name", expr: 'name + "!"' }], keepOthers: true });
    const input = { ...rows[0] };
    op!.project(input);
    expect(input).toEqual(rows[0]);
  });

  it.each([
    [{ fields: [{ name: "a", from: "id" }, { name: "a", from: "name" }] }, "duplicate-field", "fields[1].name"],
    [{ fields: [{ name: "a", from: "nmae" }] }, "unknown-field", "fields[0].from"],
    [{ fields: [{ name: "a", expr: "nmae + 1" }] }, "unknown-field", "fields[0].expr"],
    [{ fields: [{ name: "a", from: "name" }], flatten: [{ field: "a" }] }, "flatten-not-struct", "flatten[0].field"],
    [{ fields: [{ name: "a", from: "name" }], flatten: [{ field: "zz" }] }, "unknown-field", "flatten[0].field"],
    [{ fields: [] }, "empty-projection", "fields"],
    [{ fields: [{ name: "user_id", from: "id" }, { name: "user", from: "user" }], flatten: [{ field: "user" }] }, "duplicate-field", "flatten[0]"],
  ])("diagnoses %j", (config, code, path) => {
    const built = buildProjection("p", projectionNodeConfig.parse(config), schema);
    expect(built.op).toBeUndefined();
    expect(built.diagnostics).toContainEqual(expect.objectContaining({ severity: "error", code, path }));
  });

  it("warns about drops that do nothing", () => {
    expect(projection({ fields: [{ name: "a", from: "id" }], drop: ["name"] }).diagnostics).toMatchObject([{ code: "drop-without-keep" }]);
    expect(projection({ fields: [{ name: "a", from: "id" }], keepOthers: true, drop: ["nam"] }).diagnostics).toMatchObject([{ code: "unknown-field", message: expect.stringMatching(/did you mean "name"/) }]);
  });

  it("requires exactly one of from/expr", () => {
    expect(projectionNodeConfig.safeParse({ fields: [{ name: "a" }] }).success).toBe(false);
    expect(projectionNodeConfig.safeParse({ fields: [{ name: "a", from: "b", expr: "1" }] }).success).toBe(false);
  });
});

describe("Split", () => {
  const split = (config: unknown) => {
    const built = buildSplit("s", splitNodeConfig.parse(config), schema);
    if (!built.op) throw new Error(JSON.stringify(built.diagnostics));
    return built.op;
  };

  it("routes to the first matching output and drops-and-counts unmatched", () => {
    const op = split({ outputs: [{ name: "cheap", condition: "price < 5.0" }, { name: "small", condition: "id < 3" }] });
    const r = runSplit(op, batch());
    expect(op.ports).toEqual(["cheap", "small"]);
    expect(r.outs.map((b) => b.rows.map((x) => x.id))).toEqual([[2], [1]]);
    expect(r.outs[1].metas).toEqual(["m1"]);
    expect(r.dropped).toBe(1);
    expect(r.emitted).toBe(2);
  });

  it("routes to every matching output in all mode, unmatched to else", () => {
    const op = split({ mode: "all", unmatched: "else", outputs: [{ name: "cheap", condition: "price < 8.0" }, { name: "small", condition: "id < 3" }] });
    const r = runSplit(op, batch([...rows, { ...rows[0], id: 9, price: 100 }]));
    expect(op.ports).toEqual(["cheap", "small", "else"]);
    expect(r.outs.map((b) => b.rows.map((x) => x.id))).toEqual([[2, 3], [1, 2], [9]]);
    expect(r.dropped).toBe(0);
    expect(r.emitted).toBe(5);
  });

  it("sends a record whose condition fails nowhere but to the errors", () => {
    const op = split({ outputs: [{ name: "n", condition: "int(qty) > 0" }], unmatched: "else" });
    const r = runSplit(op, batch());
    expect(r.outs.map((b) => b.rows.length)).toEqual([2, 0]);
    expect(r.errors).toMatchObject([{ nodeId: "s", meta: "m2", reason: 'cannot convert "x" to int' }]);
  });

  it("diagnoses duplicate outputs, reserved names and constant conditions", () => {
    expect(buildSplit("s", splitNodeConfig.parse({ outputs: [{ name: "a", condition: "true" }, { name: "a", condition: "id > 1" }] }), schema).diagnostics).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: "duplicate-port" }), expect.objectContaining({ code: "constant-condition", message: expect.stringMatching(/no record reaches the outputs after it/) })]),
    );
    expect(splitNodeConfig.safeParse({ outputs: [{ name: "else", condition: "true" }] }).success).toBe(false);
    expect(splitNodeConfig.safeParse({ outputs: [] }).success).toBe(false);
  });
});

describe("Union", () => {
  const a: StreamSchema = [{ name: "id", type: "int" }, { name: "name", type: "string" }];
  const b: StreamSchema = [{ name: "id", type: "float" }, { name: "extra", type: "bool" }];

  it("aligns schemas: missing fields become nullable and null in records", () => {
    const built = buildUnion("u", {}, [{ port: "left", schema: a }, { port: "right", schema: b }]);
    expect(built.outputSchema).toEqual([
      { name: "id", type: "float" },
      { name: "name", type: "string", nullable: true },
      { name: "extra", type: "bool", nullable: true },
    ]);
    expect(built.diagnostics.map((d) => d.code)).toEqual(["union-field-missing", "union-field-missing"]);
    expect(built.op!.align(0, { rows: [{ id: 1, name: "x" }], metas: ["m"] })).toEqual({ rows: [{ id: 1, name: "x", extra: null }], metas: ["m"] });
  });

  it("names the source of each record in sourceField", () => {
    const built = buildUnion("u", { sourceField: "origin" }, [{ port: "clicks", schema: a }, { port: "views", schema: a }]);
    expect(built.op!.align(1, { rows: [{ id: 1, name: "x" }], metas: [undefined] }).rows).toEqual([{ id: 1, name: "x", origin: "views" }]);
    expect(built.outputSchema!.at(-1)).toEqual({ name: "origin", type: "string" });
  });

  it("passes batches through untouched when schemas already agree", () => {
    const built = buildUnion("u", {}, [{ port: "in", schema: a }, { port: "in", schema: a }]);
    const input = { rows: [{ id: 1, name: "x" }], metas: [1] };
    expect(built.op!.align(0, input)).toBe(input);
  });

  it("says which fields differ when schemas are incompatible", () => {
    const built = buildUnion("u", {}, [{ port: "left", schema: a }, { port: "right", schema: [{ name: "id", type: "string" }, { name: "name", type: { list: "string" } }] }]);
    expect(built.op).toBeUndefined();
    expect(built.diagnostics[0]).toMatchObject({ code: "union-schema-mismatch" });
    expect(built.diagnostics[0].message).toContain('"id" is int in "left" but string in "right"');
    expect(built.diagnostics[0].message).toContain('"name" is string in "left" but list<string> in "right"');
  });

  it("refuses a sourceField that collides or cannot tell inputs apart", () => {
    expect(buildUnion("u", { sourceField: "name" }, [{ port: "x", schema: a }, { port: "y", schema: a }]).diagnostics[0].code).toBe("duplicate-field");
    expect(buildUnion("u", { sourceField: "src" }, [{ port: "in", schema: a }, { port: "in", schema: a }]).diagnostics[0].code).toBe("duplicate-port");
  });
});
