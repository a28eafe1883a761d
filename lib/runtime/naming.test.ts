import { describe, expect, it } from "vitest";
import { reservedNameProblem, reservedPrefixOf } from "@/lib/warehouse/reserved-names";
import * as naming from "./naming";

describe("platform names", () => {
  // A name the runtime builds outside the reserved prefixes could be claimed by a team first (issue 16, High 2).
  it("every name builder yields a name under a reserved prefix", () => {
    const builders = Object.entries(naming).filter(([, v]) => typeof v === "function") as [string, (...a: unknown[]) => string][];
    expect(builders.length).toBeGreaterThanOrEqual(4);
    for (const [name, build] of builders) {
      const built = build("ads-analytics", 3);
      expect(reservedPrefixOf(built), `${name} → ${built}`).toBeDefined();
    }
  });

  it("reserves the prefixes also when '_' stands for '.', and nothing else", () => {
    for (const n of ["dlq.a.b", "dlq_a_b", "sluice.state.x.e0", "sluice_x", "__sluice.p.n.repartition", "__consumer_offsets", "_schemas"]) {
      expect(reservedNameProblem(n), n).toMatch(/are reserved for/);
    }
    for (const n of ["dlqs.a", "dlq-a.b", "ods.dlq.a", "sluicex.a", "ads.sluice.x"]) expect(reservedNameProblem(n), n).toBeUndefined();
  });
});
