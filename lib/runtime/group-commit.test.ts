import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GroupCommit } from "./group-commit";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A stand-in plan: every run appends its id to the state changes not yet
 * drained, as a Window's changelog does, and the committer records each round.
 */
function harness(opts: { write?: (ids: number[]) => Promise<unknown>; haltOnFailure?: boolean } = {}) {
  let changes: number[] = [];
  const rounds: { results: number[]; changes: number[] }[] = [];
  const ran: number[] = [];
  const commits = new GroupCommit<number, number[]>({
    haltOnFailure: opts.haltOnFailure,
    drain: () => {
      const c = changes;
      changes = [];
      return c;
    },
    write: async (results, drained) => {
      rounds.push({ results, changes: drained });
      await opts.write?.(results);
      return results.map((id) => id * 10);
    },
  });
  const run = (id: number, delayMs = 0) =>
    commits.submit(async () => {
      if (delayMs) await sleep(delayMs);
      ran.push(id);
      changes.push(id);
      return id;
    });
  return { commits, rounds, ran, run, change: (id: number) => changes.push(id) };
}

describe("GroupCommit", () => {
  it("writes the results of runs queued together in one round, in order, and answers each with its bytes", async () => {
    const h = harness();
    const out = await Promise.all([h.run(1, 3), h.run(2), h.run(3, 1)]);
    expect(h.rounds).toEqual([{ results: [1, 2, 3], changes: [1, 2, 3] }]);
    expect(out).toEqual([{ result: 1, bytes: 10 }, { result: 2, bytes: 20 }, { result: 3, bytes: 30 }]);
  });

  it("puts a result that arrives while a round is being written into the next round", async () => {
    const gate = deferred();
    const h = harness({ write: (ids) => (ids.includes(1) ? gate.promise : Promise.resolve()) });
    const first = h.run(1);
    await sleep(5);
    expect(h.rounds).toHaveLength(1);
    const second = h.run(2);
    const third = h.run(3);
    await sleep(5);
    expect(h.rounds).toHaveLength(1); // the first round is still being written
    gate.resolve();
    await Promise.all([first, second, third]);
    expect(h.rounds).toEqual([
      { results: [1], changes: [1] },
      { results: [2, 3], changes: [2, 3] },
    ]);
  });

  it("fails every result of a failed round, and the next round still runs", async () => {
    let fail = true;
    const h = harness({
      write: async () => {
        if (fail) throw new Error("transaction aborted: producer fenced");
      },
    });
    const a = h.run(1);
    const b = h.run(2);
    await expect(a).rejects.toThrow("producer fenced");
    await expect(b).rejects.toThrow("producer fenced");
    fail = false;
    await expect(h.run(3)).resolves.toEqual({ result: 3, bytes: 30 });
    expect(h.rounds.map((r) => r.results)).toEqual([[1, 2], [3]]);
  });

  it("with haltOnFailure (a plan with state), fails the runs behind a failed round and every later run without running them", async () => {
    const gate = deferred();
    const h = harness({
      haltOnFailure: true,
      write: async (ids) => {
        if (ids.includes(1)) {
          await gate.promise;
          throw new Error("broker gone: commit failed");
        }
      },
    });
    const first = h.run(1);
    await sleep(5);
    // Computed on the plan while the first round is being written: its state includes batch 1's.
    const second = h.run(2);
    await sleep(5);
    gate.resolve();
    await expect(first).rejects.toThrow("broker gone");
    await expect(second).rejects.toThrow(/round failed to commit \(broker gone: commit failed\)/);
    await expect(h.run(3)).rejects.toMatchObject({ name: "GroupCommitHalted" });
    expect(h.ran).toEqual([1, 2]);
    expect(h.rounds.map((r) => r.results)).toEqual([[1]]);
    expect(h.commits.halted?.message).toMatch(/must be rebuilt/);
  });

  it("rejects only the run whose plan call threw", async () => {
    const h = harness();
    const bad = h.commits.submit(async () => {
      throw new Error("plan failed");
    });
    const good = h.run(2);
    await expect(bad).rejects.toThrow("plan failed");
    await expect(good).resolves.toEqual({ result: 2, bytes: 20 });
    expect(h.rounds).toEqual([{ results: [2], changes: [2] }]);
  });

  it("does not write a result its caller declines; its state changes ride with the next round", async () => {
    const h = harness();
    const quiet = await h.commits.submit(
      async () => {
        h.change(7);
        return 7;
      },
      () => false,
    );
    expect(quiet).toEqual({ result: 7, bytes: 0 });
    expect(h.rounds).toEqual([]);
    await h.run(8);
    expect(h.rounds).toEqual([{ results: [8], changes: [7, 8] }]);
  });

  it("never commits state changes apart from the results that made them, whatever the timing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ start: fc.integer({ min: 0, max: 6 }), plan: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 12 }),
        async (runs, writeDelays) => {
          let w = 0;
          const h = harness({ write: () => sleep(writeDelays[w++ % Math.max(1, writeDelays.length)] ?? 0) });
          const out = await Promise.all(runs.map((r, id) => sleep(r.start).then(() => h.run(id, r.plan))));
          expect(out.map((o) => o.result)).toEqual(runs.map((_, id) => id));
          for (const round of h.rounds) expect(round.changes).toEqual(round.results);
          expect(h.rounds.flatMap((r) => r.results).sort((a, b) => a - b)).toEqual(runs.map((_, id) => id));
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("GroupCommit.hold / run", () => {
  it("commits the slices of a held batch in one round, with a run that took its turn between them", async () => {
    const { commits, rounds, run } = harness();
    const release = commits.hold();
    const a = await commits.run(async () => 1);
    const other = run(2);
    await sleep(5);
    const b = await commits.run(async () => 3);
    await sleep(5);
    expect(rounds).toEqual([]);
    release();
    expect(await Promise.all([a.committed, b.committed, other.then((r) => r.bytes)])).toEqual([10, 30, 20]);
    expect(rounds.map((r) => r.results)).toEqual([[1, 2, 3]]);
  });

  it("run's committed rejects with the round's error even when read late", async () => {
    const commits = new GroupCommit<number, number[]>({ drain: () => [], write: async () => Promise.reject(new Error("fenced")) });
    const { committed } = await commits.run(async () => 1);
    await sleep(5);
    await expect(committed).rejects.toThrow("fenced");
  });
});
