import { describe, expect, it } from "vitest";
import { layoutGraph } from "./layout";

describe("layoutGraph", () => {
  it("lays a pipeline out left to right without overlapping nodes", () => {
    const nodes = [
      { id: "source-1", measured: { width: 180, height: 60 } },
      { id: "split-1", measured: { width: 240, height: 120 } },
      { id: "sink-1", measured: { width: 180, height: 60 } },
      { id: "sink-2", measured: { width: 180, height: 60 } },
    ];
    const edges = [
      { source: "source-1", target: "split-1" },
      { source: "split-1", target: "sink-1" },
      { source: "split-1", target: "sink-2" },
    ];
    const p = layoutGraph(nodes, edges);
    expect(p["source-1"].x + 180).toBeLessThan(p["split-1"].x);
    expect(p["split-1"].x + 240).toBeLessThan(p["sink-1"].x);
    expect(p["sink-1"].x).toBe(p["sink-2"].x);
    // The two sinks share a rank, so they must be stacked apart by at least one node height.
    expect(Math.abs(p["sink-1"].y - p["sink-2"].y)).toBeGreaterThanOrEqual(60);
  });

  it("places unmeasured and unconnected nodes too", () => {
    const p = layoutGraph([{ id: "a" }, { id: "b" }], []);
    expect(Object.keys(p).sort()).toEqual(["a", "b"]);
    expect(p.a).not.toEqual(p.b);
  });
});
