import { describe, expect, it } from "vitest";
import { checkRecord } from "./record-check";
import { streamSchemaInput } from "@/lib/warehouse/field-schema";

const schema = streamSchemaInput.parse([
  { name: "user_id", type: "string" },
  { name: "ts", type: "timestamp" },
  { name: "amount", type: "float", nullable: true },
  { name: "count", type: "int" },
  { name: "tags", type: { list: "string" }, nullable: true },
  { name: "geo", type: { struct: [{ name: "country", type: "string" }] }, nullable: true },
]);

describe("checkRecord", () => {
  it("accepts conforming records, extra fields and nulls where nullable", () => {
    expect(checkRecord(schema, { user_id: "u1", ts: 1, count: 2, amount: null, extra: true })).toEqual([]);
    expect(checkRecord(schema, { user_id: "u1", ts: 1, count: 2, tags: ["a"], geo: { country: "SE" } })).toEqual([]);
  });

  it("names each offending field with expected and actual types", () => {
    expect(checkRecord(schema, { user_id: 5, ts: "2026-01-01", count: 1.5, tags: ["a", 3], geo: { country: 1 } })).toEqual([
      "user_id: expected string, got number",
      "ts: expected timestamp, got a string (timestamps are epoch milliseconds)",
      "count: expected int, got 1.5",
      "tags[1]: expected string, got number",
      "geo.country: expected string, got number",
    ]);
    expect(checkRecord(schema, { ts: 1, count: 1 })).toEqual(["user_id: required (string) but missing"]);
    expect(checkRecord(schema, [1])).toEqual(["a record must be a JSON object"]);
  });

  it("rejects duplicate and badly named fields in a schema", () => {
    const r = streamSchemaInput.safeParse([{ name: "a", type: "int" }, { name: "a", type: "string" }, { name: "1x", type: "int" }]);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join("."))).toEqual(expect.arrayContaining(["1.name", "2.name"]));
  });
});

describe("compileRecordCheck", () => {
  it("agrees with checkRecord: undefined for conforming records, the same problems otherwise", async () => {
    const { compileRecordCheck } = await import("@/lib/pipeline/record-check");
    const check = compileRecordCheck(schema);
    const samples: unknown[] = [
      { user_id: "u1", ts: 1, count: 2, amount: null, extra: true },
      { user_id: "u1", ts: 1, count: 2, tags: ["a"], geo: { country: "SE" } },
      { user_id: 5, ts: "2026-01-01", count: 1.5, tags: ["a", 3], geo: { country: 1 } },
      { ts: 1, count: 1 },
      { user_id: "u", ts: 1, count: 1, tags: "nope" },
      [1],
      null,
    ];
    for (const s of samples) {
      const expected = checkRecord(schema, s);
      expect(check(s) ?? []).toEqual(expected);
    }
  });
});
