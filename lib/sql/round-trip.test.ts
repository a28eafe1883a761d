import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePipeline, type Pipeline, type PipelineInput } from "@/lib/pipeline";
import { canonicalHash, canonicalHashes } from "@/lib/compiler";
import { randomPipeline } from "@/lib/pipeline/testing/random-pipeline";
import { pipelineToSql, sqlToPipeline } from ".";

function pipeline(input: PipelineInput): Pipeline {
  const r = parsePipeline(input);
  if (!r.pipeline) throw new Error(JSON.stringify(r.diagnostics));
  return r.pipeline;
}

/** Canonical hash of what each stream receives: the pipeline's logic, whatever the node ids or layout. */
function sinkHashes(p: Pipeline): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of p.nodes) if (n.type === "sink") out[n.config.stream] = canonicalHash(p, n.id);
  return out;
}

// Every pipeline the generator makes is in the dialect (both Split modes included).
const inDialect = randomPipeline;

describe("SQL round trip", () => {
  it("graph → SQL → graph keeps every sink's canonical hash, and SQL → graph → SQL is stable (property)", () => {
    fc.assert(
      fc.property(inDialect, (input) => {
        const original = pipeline(input);
        const sql = pipelineToSql(original);
        if (!sql.ok) throw new Error(`not expressible: ${JSON.stringify(sql.problems)}\n${JSON.stringify(input)}`);
        const back = sqlToPipeline(sql.sql);
        if (!back.ok) throw new Error(`${back.error.message} at ${JSON.stringify(back.error.span)}\n${sql.sql}`);
        const rebuilt = pipeline(back.pipeline);
        expect(sinkHashes(rebuilt), sql.sql).toEqual(sinkHashes(original));
        const again = pipelineToSql(rebuilt);
        if (!again.ok) throw new Error(JSON.stringify(again.problems));
        // Two Splits with the same input and the same routing read the same in SQL: they come back as one
        // Split (same hashes, checked above), so the text changes once and is stable from then on.
        const hashes = canonicalHashes(original);
        const splitHashes = original.nodes.filter((n) => n.type === "split").map((n) => hashes[n.id]);
        if (new Set(splitHashes).size === splitHashes.length) expect(again.sql).toBe(sql.sql);
        else {
          const third = sqlToPipeline(again.sql);
          expect(third.ok && pipelineToSql(pipeline(third.pipeline))).toEqual({ ok: true, sql: again.sql });
        }
      }),
      { numRuns: 300 },
    );
  }, 180_000);
});

describe("SQL robustness", () => {
  it("never throws on mangled SQL: every problem is an error with a message (property)", () => {
    const mangled = fc.tuple(inDialect, fc.array(fc.tuple(fc.nat(), fc.nat(6), fc.string({ maxLength: 4, unit: fc.constantFrom(..."()'`;,.*= \nSELECTFROMWHERECASEND01") })), { minLength: 1, maxLength: 4 })).map(([input, edits]) => {
      const sql = pipelineToSql(pipeline(input));
      let text = sql.ok ? sql.sql : "";
      for (const [at, del, ins] of edits) {
        const i = text.length ? at % text.length : 0;
        text = text.slice(0, i) + ins + text.slice(i + del);
      }
      return text;
    });
    fc.assert(
      fc.property(mangled, (text) => {
        const r = sqlToPipeline(text);
        if (!r.ok) {
          expect(r.error.message.length).toBeGreaterThan(0);
          if (r.error.span) expect(r.error.span.line).toBeGreaterThanOrEqual(1);
        } else expect(Array.isArray(r.pipeline.nodes)).toBe(true);
      }),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const r = sqlToPipeline(text);
        if (!r.ok) expect(r.error.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  }, 180_000);
});
