import { describe, expect, it } from "vitest";
import { compilePipeline, validatePipeline } from "@/lib/compiler";
import { parsePipeline, type StreamSchema } from "@/lib/pipeline";
import { CLICKS, chaosPipelines, EVENT_TIME_JITTER_MS, MALFORMED_SHARE, ORDERS, SOURCES, StreamGenerator, VIEWS, type ProducedRecord, WINDOW_OUT_OF_ORDERNESS } from "./workload";
import { durationMs } from "@/lib/pipeline/nodes/window";

const schemas = new Map<string, StreamSchema>([...SOURCES.map((s) => [s.name, s.schema] as const), ...chaosPipelines().flatMap((p) => p.sinks.map((s) => [s.name, s.schema] as const))]);
const ctx = { streams: (name: string) => (schemas.has(name) ? { schema: schemas.get(name)! } : undefined) };

describe("chaos workload", () => {
  it("has pipelines that validate without warnings about sinks, use every operator, and are half exactly_once", () => {
    const pipelines = chaosPipelines();
    const kinds = new Set<string>();
    for (const p of pipelines) {
      const parsed = parsePipeline(p.definition);
      expect(parsed.diagnostics, p.name).toBeUndefined();
      const v = validatePipeline(parsed.pipeline!, ctx);
      expect(v.diagnostics.filter((d) => d.severity !== "info"), p.name).toEqual([]);
      for (const n of parsed.pipeline!.nodes) kinds.add(n.type === "window" ? `window:${(n.config as { window: { kind: string } }).window.kind}` : n.type);
    }
    expect([...kinds].sort()).toEqual(["filter", "projection", "sink", "source", "split", "udf", "union", "window:hopping", "window:tumbling"]);
    const eo = pipelines.filter((p) => p.guarantee === "exactly_once").length;
    expect(Math.abs(eo - (pipelines.length - eo))).toBeLessThanOrEqual(1);
    const sinks = pipelines.flatMap((p) => p.sinks.map((s) => s.name));
    expect(new Set(sinks).size).toBe(sinks.length);
  });

  it("generates the same records for the same seed, with per-key sequences, bounded disorder and ~0.3% malformed", () => {
    const gen = (seed: number) => {
      const g = new StreamGenerator(SOURCES.find((s) => s.name === CLICKS)!, seed, 1_000_000);
      return Array.from({ length: 20_000 }, () => g.next());
    };
    const a = gen(7);
    const text = (records: ProducedRecord[]) => records.map((r) => `${r.id} ${r.key} ${r.value.toString("hex")}`).join("\n");
    expect(text(gen(7))).toBe(text(a));
    expect(gen(8).map((r) => r.id)).not.toEqual(a.map((r) => r.id));
    const seqs = new Map<string, number>();
    let newest = -Infinity;
    let outOfOrder = 0;
    let seqGaps = 0;
    let furthestBehind = 0;
    for (const r of a) {
      const [key, seq] = r.id.split("/").slice(-2);
      if (Number(seq) !== (seqs.get(key) ?? 0)) seqGaps++;
      seqs.set(key, Number(seq) + 1);
      if (r.ts === undefined) continue;
      if (r.ts < newest) outOfOrder++;
      furthestBehind = Math.max(furthestBehind, newest - r.ts);
      newest = Math.max(newest, r.ts);
    }
    expect(seqGaps).toBe(0);
    expect(outOfOrder).toBeGreaterThan(1_000);
    // Never later than the windows' bound: the reference needs no record to be late.
    expect(furthestBehind).toBeGreaterThan(EVENT_TIME_JITTER_MS);
    expect(furthestBehind).toBeLessThan(durationMs(WINDOW_OUT_OF_ORDERNESS));
    const malformed = a.filter((r) => r.malformed).length / a.length;
    expect(malformed).toBeGreaterThan(MALFORMED_SHARE / 2);
    expect(malformed).toBeLessThan(MALFORMED_SHARE * 2);
  });

  it("runs through every pipeline's plan: malformed records and the designed failures are errors, the rest flows", async () => {
    for (const p of chaosPipelines()) {
      const plan = compilePipeline(parsePipeline(p.definition).pipeline!, ctx, { checkSourceSchema: true });
      let errors = 0;
      let malformed = 0;
      let out = 0;
      for (const spec of SOURCES.filter((s) => [...plan.sources.values()].includes(s.name))) {
        const g = new StreamGenerator(spec, 3, 1_000_000);
        const records = Array.from({ length: 3_000 }, () => g.next());
        malformed += records.filter((r) => r.malformed).length;
        const res = await plan.processEncoded(spec.name, records.map((r) => r.value));
        errors += res.errors.length;
        out += [...res.sinks.values()].reduce((n, rows) => n + rows.length, 0);
        for (const e of res.errors) if (e.nodeId === "clicks" || e.nodeId === "views" || e.nodeId === "orders") expect(e.reason).toBeTruthy();
      }
      plan.dispose();
      expect(errors, p.name).toBeGreaterThanOrEqual(malformed);
      expect(out, p.name).toBeGreaterThan(0);
    }
  });

  it("puts the end marker past every window holding real records", () => {
    for (const name of [CLICKS, VIEWS, ORDERS]) {
      const g = new StreamGenerator(SOURCES.find((s) => s.name === name)!, 1, 0);
      for (let i = 0; i < 100; i++) g.next();
      expect(g.endMarker(0).ts! - g.maxTs).toBeGreaterThan(60_000);
    }
  });
});
