import { describe, expect, it } from "vitest";
import { checkFunctionVersion, functionVersionInput, nextFunctionVersion } from "./index";

describe("function registry (pure part)", () => {
  it("validates names and forms, and compile-checks the source", () => {
    expect(functionVersionInput.safeParse({ name: "Enrich!", form: "map", source: "(r) => r" }).success).toBe(false);
    expect(functionVersionInput.safeParse({ name: "enrich", form: "reduce", source: "(r) => r" }).success).toBe(false);
    const ok = functionVersionInput.parse({ name: "enrich", form: "map", source: "(r) => r" });
    expect(checkFunctionVersion(ok)).toEqual([]);
    expect(checkFunctionVersion({ ...ok, source: "(r) => {" })[0]).toMatchObject({ severity: "error", path: "source" });
  });

  it("numbers versions from 1 and does not mint a version for an unchanged save", () => {
    expect(nextFunctionVersion([], { source: "a", form: "map" })).toBe(1);
    const existing = [
      { version: 1, source: "a", form: "map" },
      { version: 2, source: "b", form: "map" },
    ];
    expect(nextFunctionVersion(existing, { source: "b", form: "map" })).toBeNull();
    expect(nextFunctionVersion(existing, { source: "b", form: "filter" })).toBe(3);
    expect(nextFunctionVersion(existing, { source: "a", form: "map" })).toBe(3);
  });
});
