import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parsePipeline, type Pipeline, type PipelineInput, type StreamSchema } from "@/lib/pipeline";
import { validatePipeline } from "@/lib/compiler";
import { pipelineToFlinkSql } from "./flink";

/**
 * Golden files pin the Flink SQL export for one pipeline of each operator
 * (lib/sql/testdata/flink/*.sql). After an intended change, regenerate them
 * with UPDATE_GOLDEN=1 npx vitest run lib/sql/flink.test.ts and review the diff.
 */
const clicks: StreamSchema = [
  { name: "user_id", type: "string" },
  { name: "amount", type: "float" },
  { name: "country", type: "string" },
  { name: "tags", type: { list: "string" } },
  { name: "ts", type: "timestamp" },
];
const views: StreamSchema = [
  { name: "user_id", type: "string" },
  { name: "country", type: "string" },
  { name: "ts", type: "timestamp" },
];
const catalog: Record<string, { schema: StreamSchema; topic: string }> = {
  "ods.ads.clicks": { schema: clicks, topic: "sluice.ods.ads.clicks" },
  "ods.ads.views": { schema: views, topic: "sluice.ods.ads.views" },
};
const ctx = { streams: (n: string) => catalog[n] };

const src = (id = "clicks", stream = "ods.ads.clicks") => ({ id, type: "source" as const, config: { stream } });
const sink = (id: string, stream: string) => ({ id, type: "sink" as const, config: { stream } });
const chain = (...ids: string[]) => ids.slice(1).map((t, i) => ({ source: ids[i], target: t }));

const GOLDEN: Record<string, PipelineInput> = {
  filter: {
    version: 1,
    nodes: [src(), { id: "big", type: "filter", config: { predicate: 'amount > 10.0 && country != "XX" && size(tags) > 0 && user_id.startsWith("u")' } }, sink("out", "dwd.ads.big_clicks")],
    edges: chain("clicks", "big", "out"),
  },
  projection: {
    version: 1,
    nodes: [
      src(),
      { id: "shape", type: "projection", config: { fields: [{ name: "user", from: "user_id" }, { name: "cents", expr: "int(amount * 100.0)" }, { name: "label", expr: 'country.lowerAscii() + "-" + user_id.substring(0, 2)' }, { name: "first_tag", expr: "tags[0]" }, { name: "amount_text", from: "amount", cast: "string" }] } },
      sink("out", "dwd.ads.shaped"),
    ],
    edges: chain("clicks", "shape", "out"),
  },
  split: {
    version: 1,
    nodes: [src(), { id: "route", type: "split", config: { outputs: [{ name: "eu", condition: 'country in ["FR", "DE"]' }, { name: "us", condition: 'country == "US"' }], mode: "first", unmatched: "else" } }, sink("eu", "dwd.ads.eu"), sink("us", "dwd.ads.us"), sink("rest", "dwd.ads.rest")],
    edges: [{ source: "clicks", target: "route" }, { source: "route", sourcePort: "eu", target: "eu" }, { source: "route", sourcePort: "us", target: "us" }, { source: "route", sourcePort: "else", target: "rest" }],
  },
  split_all: {
    version: 1,
    nodes: [src(), { id: "route", type: "split", config: { outputs: [{ name: "big", condition: "amount > 100.0" }, { name: "fr", condition: 'country == "FR"' }], mode: "all", unmatched: "else" } }, sink("big", "dwd.ads.big"), sink("fr", "dwd.ads.fr"), sink("rest", "dwd.ads.rest")],
    edges: [{ source: "clicks", target: "route" }, { source: "route", sourcePort: "big", target: "big" }, { source: "route", sourcePort: "fr", target: "fr" }, { source: "route", sourcePort: "else", target: "rest" }],
  },
  union: {
    version: 1,
    nodes: [src(), src("views", "ods.ads.views"), { id: "slim", type: "projection", config: { fields: [{ name: "user_id", from: "user_id" }, { name: "country", from: "country" }, { name: "ts", from: "ts" }] } }, { id: "all", type: "union", config: { sourceField: "kind" } }, sink("out", "dwd.ads.activity")],
    edges: [{ source: "clicks", target: "slim" }, { source: "slim", target: "all", targetPort: "click" }, { source: "views", target: "all", targetPort: "view" }, { source: "all", target: "out" }],
  },
  window: {
    version: 1,
    nodes: [
      src(),
      { id: "paid", type: "filter", config: { predicate: "amount > 0.0" } },
      { id: "per_minute", type: "window", config: { window: { kind: "hopping", size: "1m", slide: "10s" }, timeField: "ts", maxOutOfOrderness: "5s", idleTimeout: "30s", keys: [{ name: "country", expr: "country" }], aggregates: [{ name: "clicks", fn: "count" }, { name: "revenue", fn: "sum", field: "amount" }, { name: "users", fn: "count_distinct", field: "user_id" }] } },
      sink("out", "dws.ads.per_minute"),
    ],
    edges: chain("clicks", "paid", "per_minute", "out"),
  },
  session: {
    version: 1,
    nodes: [src(), { id: "visits", type: "window", config: { window: { kind: "session", gap: "30m" }, keys: [{ name: "user_id", expr: "user_id" }], aggregates: [{ name: "clicks", fn: "count" }, { name: "spent", fn: "max", field: "amount" }] } }, sink("out", "dws.ads.sessions")],
    edges: chain("clicks", "visits", "out"),
  },
  udf: {
    version: 1,
    nodes: [src(), { id: "enrich", type: "udf", config: { function: { name: "enrich_click", version: 2 } } }, sink("out", "dwd.ads.enriched")],
    edges: chain("clicks", "enrich", "out"),
  },
};

function exportOf(input: PipelineInput) {
  const parsed = parsePipeline(input);
  if (!parsed.pipeline) throw new Error(JSON.stringify(parsed.diagnostics));
  const p: Pipeline = parsed.pipeline;
  const { schemas } = validatePipeline(p, { ...ctx, functions: (name: string) => (name === "enrich_click" ? { name, version: 2, source: "(r) => r", form: "map" as const } : undefined) });
  return pipelineToFlinkSql(p, { streams: ctx.streams, schemas, bootstrapServers: "kafka-1:9092,kafka-2:9092", pipelineName: "golden" });
}

describe("Flink SQL export", () => {
  for (const [name, input] of Object.entries(GOLDEN)) {
    it(`matches the golden file for ${name}`, () => {
      const r = exportOf(input);
      if (!r.ok) throw new Error(JSON.stringify(r.problems));
      const file = join(__dirname, "testdata", "flink", `${name}.sql`);
      if (process.env.UPDATE_GOLDEN === "1" || !existsSync(file)) {
        if (process.env.CI && !existsSync(file)) throw new Error(`missing golden file ${file}`);
        writeFileSync(file, r.sql);
      }
      expect(r.sql).toBe(readFileSync(file, "utf8"));
    });
  }

  it("refuses what Flink SQL cannot run, naming the node", () => {
    const top: PipelineInput = { version: 1, nodes: [src(), { id: "w", type: "window", config: { window: { kind: "tumbling", size: "1m" }, timeField: "ts", aggregates: [{ name: "top", fn: "top_k", field: "country", k: 3 }] } }, sink("o", "x")], edges: chain("clicks", "w", "o") };
    expect(exportOf(top)).toMatchObject({ ok: false, problems: [{ nodeId: "w", message: expect.stringContaining("top_k") }] });
    const calendar: PipelineInput = { version: 1, nodes: [src(), { id: "f", type: "filter", config: { predicate: "getHours(ts) > 3" } }, sink("o", "x")], edges: chain("clicks", "f", "o") };
    expect(exportOf(calendar)).toMatchObject({ ok: false, problems: [{ nodeId: "f", message: expect.stringContaining("getHours() has no Flink SQL equivalent") }] });
    const renamed: PipelineInput = { version: 1, nodes: [src(), { id: "p", type: "projection", config: { fields: [{ name: "ts", expr: "ts + duration(\"1s\")" }, { name: "country", from: "country" }] } }, { id: "w", type: "window", config: { window: { kind: "tumbling", size: "1m" }, timeField: "ts", aggregates: [{ name: "n", fn: "count" }] } }, sink("o", "x")], edges: chain("clicks", "p", "w", "o") };
    expect(exportOf(renamed)).toMatchObject({ ok: false, problems: [{ nodeId: "w", message: expect.stringContaining("computed or renamed") }] });
  });
});
