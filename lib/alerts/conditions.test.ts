import { describe, expect, it } from "vitest";
import { step } from "./conditions";

describe("alert state machine", () => {
  it("goes pending, fires after holding for T, de-duplicates while firing, and resolves", () => {
    let s = step("ok", null, true, 30_000, 1_000);
    expect(s).toEqual({ state: "pending", since: 1_000, event: "pending" });
    s = step(s.state, s.since, true, 30_000, 20_000);
    expect(s).toEqual({ state: "pending", since: 1_000 });
    s = step(s.state, s.since, true, 30_000, 31_000);
    expect(s).toEqual({ state: "firing", since: 31_000, event: "firing" });
    for (const now of [41_000, 51_000, 61_000]) expect(step("firing", 31_000, true, 30_000, now)).toEqual({ state: "firing", since: 31_000 });
    expect(step("firing", 31_000, false, 30_000, 71_000)).toEqual({ state: "ok", since: 71_000, event: "resolved" });
  });

  it("drops a pending rule whose condition stops holding without notifying, and fires window conditions at once", () => {
    expect(step("pending", 1_000, false, 30_000, 5_000)).toEqual({ state: "ok", since: 5_000 });
    expect(step("ok", null, true, 0, 5_000)).toEqual({ state: "firing", since: 5_000, event: "firing" });
  });

  it("changes nothing without data", () => {
    expect(step("firing", 1, null, 0, 99)).toEqual({ state: "firing", since: 1 });
    expect(step("pending", 1, null, 10, 99)).toEqual({ state: "pending", since: 1 });
  });
});
