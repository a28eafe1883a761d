import { describe, expect, it } from "vitest";
import type { StreamSchema } from "./schema";
import { checkCompatibility } from "./schema-compat";

const v1: StreamSchema = [
  { name: "id", type: "string" },
  { name: "amount", type: "int" },
  { name: "note", type: "string", nullable: true },
  { name: "geo", type: { struct: [{ name: "country", type: "string" }] } },
];

describe("schema compatibility", () => {
  it("BACKWARD accepts added nullable fields, removed fields and int → float", () => {
    const v2: StreamSchema = [{ name: "id", type: "string" }, { name: "amount", type: "float" }, { name: "geo", type: { struct: [{ name: "country", type: "string" }, { name: "city", type: "string", nullable: true }] } }, { name: "channel", type: "string", nullable: true }];
    expect(checkCompatibility(v1, v2, "BACKWARD")).toEqual([]);
  });

  it("BACKWARD refuses new required fields, narrowing and type changes, naming each field", () => {
    const v2: StreamSchema = [{ name: "id", type: "int" }, { name: "amount", type: "int" }, { name: "note", type: "string" }, { name: "geo", type: { struct: [{ name: "country", type: "string" }, { name: "city", type: "string" }] } }, { name: "channel", type: "string" }];
    expect(checkCompatibility(v1, v2, "BACKWARD")).toEqual([
      'field "id" changes type from string to int',
      'field "note" becomes required, but records may hold null',
      'field "geo.city" is new and required: make it nullable so records written before it existed still read',
      'field "channel" is new and required: make it nullable so records written before it existed still read',
    ]);
  });

  it("FORWARD refuses removing a required field; FULL needs both; NONE accepts anything", () => {
    const removed: StreamSchema = v1.filter((f) => f.name !== "amount");
    expect(checkCompatibility(v1, removed, "BACKWARD")).toEqual([]);
    expect(checkCompatibility(v1, removed, "FORWARD")).toEqual(['field "amount" is removed but was required: consumers on the old schema still need it']);
    expect(checkCompatibility(v1, removed, "FULL")).toHaveLength(1);
    expect(checkCompatibility(v1, [{ name: "x", type: "bool" }], "NONE")).toEqual([]);
  });
});
