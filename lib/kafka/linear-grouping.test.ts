import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire, Module } from "node:module";
import { dirname } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { groupMessagesLinear } from "./linear-grouping";

const require = createRequire(import.meta.url);

/** kafkajs's own grouping, compiled fresh from its file (whatever the module cache holds). */
function original() {
  const file = require.resolve("kafkajs/src/producer/groupMessagesPerPartition.js");
  const m = new Module(file) as Module & { _compile(src: string, file: string): void; paths: string[] };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(file));
  m._compile(readFileSync(file, "utf8"), file);
  return m.exports as typeof groupMessagesLinear;
}

describe("linear per-partition grouping", () => {
  it("groups exactly like kafkajs's (same partitions, same messages, same order)", () => {
    const kafkajs = original();
    fc.assert(
      fc.property(fc.array(fc.record({ p: fc.integer({ min: 0, max: 5 }), v: fc.string() })), fc.integer({ min: 0, max: 6 }), (messages, partitions) => {
        const args = { topic: "t", partitionMetadata: Array.from({ length: partitions }), messages, partitioner: ({ message }: { message: unknown }) => (message as { p: number }).p };
        expect(groupMessagesLinear(args)).toEqual(kafkajs(args));
      }),
    );
  });

  it("is what kafkajs's producer uses in a process that loads Sluice's Kafka client first", () => {
    const script = `
      await import("./lib/kafka/client.ts");
      const { Kafka } = await import("kafkajs");
      const { createRequire } = await import("node:module");
      const r = createRequire(process.cwd() + "/");
      const { groupMessagesLinear, linearGroupingInstalled } = await import("./lib/kafka/linear-grouping.ts");
      const cached = r.cache[r.resolve("kafkajs/src/producer/groupMessagesPerPartition.js")];
      console.log(JSON.stringify({ installed: linearGroupingInstalled, used: cached?.exports === groupMessagesLinear, kafka: typeof Kafka }));
    `;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: process.cwd(), encoding: "utf8" });
    expect(JSON.parse(out.trim().split("\n").pop()!)).toEqual({ installed: true, used: true, kafka: "function" });
  });
});
