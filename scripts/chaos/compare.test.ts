import { describe, expect, it } from "vitest";
import { canonicalJson, compareMultisets, orderViolations, recordIdentity } from "./compare";

describe("chaos comparisons", () => {
  it("counts missing, duplicated and unexpected records as multisets", () => {
    const c = compareMultisets(["a", "a", "b", "c"], ["a", "b", "b", "b", "d"]);
    expect(c).toMatchObject({ expected: 4, actual: 5, missing: 2, duplicates: 2, unexpected: 1 });
    expect(c.missingSamples.sort()).toEqual(["a", "c"]);
    expect(c.duplicateSamples).toEqual(["b"]);
    expect(c.unexpectedSamples).toEqual(["d"]);
    expect(compareMultisets(["x", "y", "x"], ["x", "x", "y"])).toMatchObject({ missing: 0, duplicates: 0, unexpected: 0 });
  });

  it("identifies records by key and canonical JSON, whatever the field order", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
    expect(recordIdentity("k", Buffer.from('{"b":1,"a":2}'))).toBe(recordIdentity("k", Buffer.from('{"a":2,"b":1}')));
    expect(recordIdentity("k", Buffer.from('{"a":2}'))).not.toBe(recordIdentity(null, Buffer.from('{"a":2}')));
    expect(recordIdentity(null, Buffer.from("{not json"))).toBe("∅ {not json");
  });

  it("finds keys whose records came out in another order, ignoring duplicates and missing records", () => {
    const exp = [{ key: "u1", id: "1" }, { key: "u1", id: "2" }, { key: "u2", id: "3" }, { key: "u1", id: "4" }];
    expect(orderViolations(exp, [{ key: "u2", id: "3" }, { key: "u1", id: "1" }, { key: "u1", id: "2" }, { key: "u1", id: "1" }, { key: "u1", id: "4" }])).toEqual({ keys: 0, samples: [] });
    expect(orderViolations(exp, [{ key: "u1", id: "1" }, { key: "u1", id: "4" }])).toEqual({ keys: 0, samples: [] });
    expect(orderViolations(exp, [{ key: "u1", id: "2" }, { key: "u1", id: "1" }, { key: "u1", id: "4" }])).toEqual({ keys: 1, samples: ["u1"] });
  });
});
