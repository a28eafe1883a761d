import { describe, expect, it } from "vitest";
import { hrefOf, layoutLineage, lineageHrefOf, NODE_HEIGHT, NODE_WIDTH, type LineageView } from "./layout";

const view: LineageView = {
  root: "stream:dwd.b",
  nodes: [
    { id: "stream:ods.a", kind: "stream", name: "ods.a", team: "ads", layer: "ODS" },
    { id: "pipeline:ads/clean", kind: "pipeline", name: "clean", team: "ads", state: "running" },
    { id: "stream:dwd.b", kind: "stream", name: "dwd.b", team: "ads", layer: "DWD" },
    { id: "pipeline:recs/count", kind: "pipeline", name: "count", team: "recs", state: "draft" },
    { id: "pipeline:ads/audit", kind: "pipeline", name: "audit", team: "ads", state: "stopped" },
  ],
  edges: [
    { from: "stream:ods.a", to: "pipeline:ads/clean" },
    { from: "pipeline:ads/clean", to: "stream:dwd.b" },
    { from: "stream:dwd.b", to: "pipeline:recs/count" },
    { from: "stream:dwd.b", to: "pipeline:ads/audit" },
  ],
};

describe("lineage layout", () => {
  it("places producers left of what they produce and consumers to the right, without overlaps", () => {
    const placed = layoutLineage(view, "ads");
    const at = Object.fromEntries(placed.map((n) => [n.id, n]));
    for (const e of view.edges) expect(at[e.from].x + NODE_WIDTH).toBeLessThan(at[e.to].x);
    // The two consumers share a column and do not overlap.
    const [c1, c2] = [at["pipeline:recs/count"], at["pipeline:ads/audit"]];
    expect(c1.x).toBe(c2.x);
    expect(Math.abs(c1.y - c2.y)).toBeGreaterThanOrEqual(NODE_HEIGHT);
    expect(placed.filter((n) => n.isRoot).map((n) => n.id)).toEqual(["stream:dwd.b"]);
  });

  it("links streams and the viewer's own pipelines, not other teams' pipelines", () => {
    const placed = Object.fromEntries(layoutLineage(view, "recs").map((n) => [n.id, n.href]));
    expect(placed["stream:dwd.b"]).toBe("/t/recs/streams/dwd.b");
    expect(placed["pipeline:recs/count"]).toBe("/t/recs/pipelines/count");
    expect(placed["pipeline:ads/clean"]).toBeUndefined();
    expect(hrefOf({ kind: "stream", name: "a b", team: "x" }, "y")).toBe("/t/y/streams/a%20b");
    expect(lineageHrefOf({ kind: "pipeline", name: "count", team: "recs" }, "recs", 3)).toBe("/t/recs/lineage?pipeline=count&depth=3");
    expect(lineageHrefOf({ kind: "pipeline", name: "clean", team: "ads" }, "recs", 3)).toBeUndefined();
  });
});
