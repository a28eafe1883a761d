import { describe, expect, it } from "vitest";
import { serializeTransactionQueries, serialized } from "./serialize-transaction-queries";

/** A fake pg-backed transaction that records how many of its queries overlap. */
function recordingTx() {
  let running = 0;
  let maxRunning = 0;
  const order: string[] = [];
  const run = async (q: unknown) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    order.push(String(q));
    if (q === "bad") throw new Error("syntax error");
    return { q };
  };
  return { tx: { queryRaw: run, executeRaw: run, options: { usePhantomQuery: false }, commit: async () => "committed" }, stats: () => ({ maxRunning, order }) };
}

describe("serialized transaction queries", () => {
  it("runs concurrent queries one at a time in issue order, and a failed query does not stop the next", async () => {
    const { tx, stats } = recordingTx();
    const s = serialized(tx);
    const results = await Promise.allSettled([s.queryRaw("a"), s.executeRaw("bad"), s.queryRaw("c"), s.queryRaw("d")]);
    expect(stats()).toEqual({ maxRunning: 1, order: ["a", "bad", "c", "d"] });
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    // Everything else is the transaction's own.
    expect(s.options).toEqual({ usePhantomQuery: false });
    expect(await s.commit()).toBe("committed");
  });

  it("wraps the transactions a factory's adapters start, and nothing else", async () => {
    const { tx, stats } = recordingTx();
    const pool = recordingTx();
    const adapter = { provider: "postgres", queryRaw: pool.tx.queryRaw, startTransaction: async () => tx };
    const factory = serializeTransactionQueries({ adapterName: "pg", connect: async () => adapter });
    const a = await factory.connect();
    expect(factory.adapterName).toBe("pg");
    const t = await a.startTransaction();
    await Promise.all([t.queryRaw(1), t.queryRaw(2), t.queryRaw(3)]);
    expect(stats().maxRunning).toBe(1);
    // Pool queries each get their own connection: still concurrent.
    await Promise.all([a.queryRaw(1), a.queryRaw(2)]);
    expect(pool.stats().maxRunning).toBe(2);
  });
});
