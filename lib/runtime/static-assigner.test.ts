import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assignStatic } from "./static-assigner";

const id = (taskIndex: number, parallelism = 3, generation = 1) => ({ taskIndex, parallelism, generation });

describe("static task assigner", () => {
  it("maps partition p to task p mod parallelism for every topic", () => {
    const a = assignStatic(
      [{ memberId: "m-b", identity: id(1) }, { memberId: "m-a", identity: id(0) }, { memberId: "m-c", identity: id(2) }],
      { clicks: [0, 1, 2, 3, 4, 5, 6], views: [0, 1] },
    );
    expect(a.get("m-a")).toEqual({ clicks: [0, 3, 6], views: [0] });
    expect(a.get("m-b")).toEqual({ clicks: [1, 4], views: [1] });
    expect(a.get("m-c")).toEqual({ clicks: [2, 5] });
  });

  it("leaves a missing task's partitions unassigned instead of moving them", () => {
    const a = assignStatic([{ memberId: "m0", identity: id(0) }, { memberId: "m2", identity: id(2) }], { t: [0, 1, 2, 3, 4, 5] });
    expect(a.get("m0")).toEqual({ t: [0, 3] });
    expect(a.get("m2")).toEqual({ t: [2, 5] });
    expect([...a.values()].flatMap((x) => x.t ?? [])).not.toContain(1);
  });

  it("gives a task index claimed twice (zombie + takeover) to the newest generation only", () => {
    const a = assignStatic([{ memberId: "old", identity: id(0, 1, 1) }, { memberId: "new", identity: id(0, 1, 2) }], { t: [0, 1] });
    expect(a.get("new")).toEqual({ t: [0, 1] });
    expect(a.get("old")).toEqual({});
  });

  it("during a rescale 3 → 2, gives nothing to the superseded tasks still in the group and maps with the new parallelism", () => {
    const a = assignStatic(
      [
        { memberId: "g2-0", identity: id(0, 3, 2) }, { memberId: "g2-1", identity: id(1, 3, 2) }, { memberId: "g2-2", identity: id(2, 3, 2) },
        { memberId: "g3-0", identity: id(0, 2, 3) }, { memberId: "g3-1", identity: id(1, 2, 3) },
      ],
      { t: [0, 1, 2, 3] },
    );
    expect(a.get("g3-0")).toEqual({ t: [0, 2] });
    expect(a.get("g3-1")).toEqual({ t: [1, 3] });
    for (const old of ["g2-0", "g2-1", "g2-2"]) expect(a.get(old)).toEqual({});
    // A new task not joined yet: its partitions wait for it, an old task with its index does not get them.
    const b = assignStatic([{ memberId: "g2-1", identity: id(1, 3, 2) }, { memberId: "g3-0", identity: id(0, 2, 3) }], { t: [0, 1, 2, 3] });
    expect(b.get("g3-0")).toEqual({ t: [0, 2] });
    expect(b.get("g2-1")).toEqual({});
  });

  it("never assigns a partition twice and is independent of member order", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 24 }), fc.uniqueArray(fc.integer({ min: 0, max: 7 })), (n, parts, present) => {
        const members = present.filter((i) => i < n).map((i) => ({ memberId: `m${i}`, identity: id(i, n) }));
        const partitions = { t: Array.from({ length: parts }, (_, i) => i) };
        const a = assignStatic(members, partitions);
        const b = assignStatic([...members].reverse(), partitions);
        const all = [...a.values()].flatMap((x) => x.t ?? []);
        expect(new Set(all).size).toBe(all.length);
        for (const m of members) expect(a.get(m.memberId)).toEqual(b.get(m.memberId));
        for (const m of members) for (const p of a.get(m.memberId)!.t ?? []) expect(p % n).toBe(m.identity.taskIndex);
      }),
    );
  });
});
