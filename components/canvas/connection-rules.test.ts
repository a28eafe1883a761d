import { describe, expect, it } from "vitest";
import type { NodeType } from "@/lib/pipeline/nodes";
import { connectionRefusal, type RuleEdge, type RuleNode } from "./connection-rules";

const graph = (spec: Record<string, NodeType>) => new Map<string, RuleNode>(Object.entries(spec).map(([id, type]) => [id, { id, type }]));
const nodes = graph({ s1: "source", s2: "source", f1: "filter", f2: "filter", p1: "projection", u1: "union", w1: "window", k1: "sink", sp: "split" });
const edge = (source: string, target: string, sourceHandle = "out"): RuleEdge => ({ source, sourceHandle, target });

describe("connectionRefusal", () => {
  it("allows an ordinary connection", () => {
    expect(connectionRefusal(edge("s1", "f1"), nodes, [])).toBeNull();
    expect(connectionRefusal(edge("f1", "k1"), nodes, [edge("s1", "f1")])).toBeNull();
  });

  it("refuses a self loop", () => {
    expect(connectionRefusal(edge("f1", "f1"), nodes, [])).toMatch(/cannot feed its own input/);
  });

  it("refuses an input into a Source and an output from a Sink", () => {
    expect(connectionRefusal(edge("f1", "s1"), nodes, [])).toMatch(/Source s1 reads a warehouse stream and takes no input/);
    expect(connectionRefusal(edge("k1", "f1"), nodes, [])).toMatch(/Sink k1 writes a warehouse stream and has no output/);
  });

  it("refuses a duplicate edge but allows another port of the same node", () => {
    expect(connectionRefusal(edge("s1", "u1"), nodes, [edge("s1", "u1")])).toMatch(/already connected/);
    expect(connectionRefusal(edge("sp", "u1", "else"), nodes, [edge("sp", "u1", "matched")])).toBeNull();
  });

  it("allows one input for non-Union nodes and many for a Union", () => {
    expect(connectionRefusal(edge("s2", "f1"), nodes, [edge("s1", "f1")])).toMatch(/Filter f1 already has an input \(from s1\).*Union/);
    expect(connectionRefusal(edge("s2", "k1"), nodes, [edge("s1", "k1")])).toMatch(/already has an input/);
    expect(connectionRefusal(edge("s2", "u1"), nodes, [edge("s1", "u1")])).toBeNull();
    expect(connectionRefusal(edge("f1", "u1"), nodes, [edge("s1", "u1"), edge("s2", "u1")])).toBeNull();
  });

  it("refuses a cycle, direct or through several nodes", () => {
    expect(connectionRefusal(edge("p1", "u1"), nodes, [edge("u1", "p1")])).toMatch(/would make a cycle/);
    const chain = [edge("u1", "f1"), edge("f1", "p1"), edge("p1", "w1")];
    expect(connectionRefusal(edge("w1", "u1"), nodes, chain)).toMatch(/Connecting w1 to u1 would make a cycle \(u1 already feeds w1\)/);
    // A diamond is not a cycle.
    expect(connectionRefusal(edge("f2", "u1"), nodes, [edge("sp", "f1", "matched"), edge("sp", "f2", "else"), edge("f1", "u1")])).toBeNull();
  });

  it("refuses ends that are not on the canvas", () => {
    expect(connectionRefusal(edge("gone", "f1"), nodes, [])).toMatch(/must be nodes on the canvas/);
  });
});
