import { describe, expect, it } from "vitest";
import { chunkTopicMessages } from "./produce-chunks";

describe("chunkTopicMessages", () => {
  it("keeps every message, in order per topic, in chunks under the byte bound", () => {
    const big = (i: number) => ({ key: `k${i}`, value: "x".repeat(3_000) });
    const input = [
      { topic: "a", messages: Array.from({ length: 1_000 }, (_, i) => big(i)) },
      { topic: "b", messages: Array.from({ length: 10 }, (_, i) => big(i)) },
    ];
    const chunks = chunkTopicMessages(input, 900 * 1024);
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) expect(c.flatMap((t) => t.messages).reduce((n, m) => n + String(m.value).length + 70, 0)).toBeLessThan(900 * 1024);
    for (const t of ["a", "b"]) {
      const got = chunks.flat().filter((x) => x.topic === t).flatMap((x) => x.messages);
      expect(got).toEqual(input.find((x) => x.topic === t)!.messages);
    }
    expect(chunkTopicMessages([{ topic: "a", messages: [big(1)] }])).toEqual([[{ topic: "a", messages: [big(1)] }]]);
    expect(chunkTopicMessages([])).toEqual([]);
  });
});
