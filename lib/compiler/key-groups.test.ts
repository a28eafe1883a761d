import fc from "fast-check";
import { Partitioners } from "kafkajs";
import { describe, expect, it } from "vitest";
import { keyGroupOf, murmur2, ownedKeyGroups } from "./key-groups";

describe("key groups", () => {
  it("place every key where kafkajs's default (Java-compatible murmur2) partitioner does", () => {
    const partitioner = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.integer({ min: 1, max: 256 }), (key, n) => {
        const partitionMetadata = Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
        expect(keyGroupOf(key, n)).toBe(partitioner({ topic: "t", partitionMetadata, message: { key, value: null } }));
      }),
      { numRuns: 2_000 },
    );
  });

  it("match Kafka's published murmur2 values", () => {
    // org.apache.kafka.common.utils.UtilsTest#testMurmur2
    const cases: [string, number][] = [
      ["21", -973932308],
      ["foobar", -790332482],
      ["a-little-bit-long-string", -985981536],
      ["a-little-bit-longer-string", -1486304829],
      ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
      ["abc", 479470107],
    ];
    for (const [s, h] of cases) expect(murmur2(new TextEncoder().encode(s))).toBe(h);
  });

  it("give each partition to exactly one task", () => {
    for (const n of [1, 2, 3, 5, 32]) {
      const all = Array.from({ length: n }, (_, t) => ownedKeyGroups(32, t, n)).flat().sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: 32 }, (_, p) => p));
    }
  });
});
