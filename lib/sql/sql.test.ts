import { describe, expect, it } from "vitest";
import { canonicalExpression } from "@/lib/expr";
import { FUNCTIONS, functionNames } from "@/lib/expr/functions";
import { parsePipeline, type Pipeline, type PipelineInput, type StreamSchema } from "@/lib/pipeline";
import { validatePipeline } from "@/lib/compiler";
import { celToSql, mapDiagnostics, pipelineToSql, sqlToPipeline } from ".";
import { parseStatements } from "./ast";
import { sqlToCel } from "./sql-to-cel";

/** CEL → SQL → CEL through the real parser: the SQL text is read as a projection's computed field. */
function roundTrip(cel: string): string {
  const sql = celToSql(cel);
  if (!sql.ok) throw new Error(sql.reason);
  const [stmt] = parseStatements(`SELECT ${sql.sql} AS x FROM t`);
  return sqlToCel(stmt.columns[0].expr, "").cel;
}

function pipeline(input: PipelineInput): Pipeline {
  const r = parsePipeline(input);
  if (!r.pipeline) throw new Error(JSON.stringify(r.diagnostics));
  return r.pipeline;
}

function fromSql(sql: string): Pipeline {
  const r = sqlToPipeline(sql);
  if (!r.ok) throw new Error(`${r.error.message} ${JSON.stringify(r.error.span)}`);
  return pipeline(r.pipeline);
}

describe("expressions", () => {
  it.each([
    "a > 1 && b <= 2 || !(c == 3)",
    "a - (b - c) * 2 % 3",
    "-a + 1.5",
    'x in ["a", "b"]',
    '!(x in ["a"])',
    "tags.exists_one(t, t == 1) == false || true",
    'user.geo.city == "Paris"',
    "l[0] + m[\"k\"]",
    "a > 1 ? \"big\" : a > 0 ? \"small\" : \"none\"",
    "isNull(note) || !isNull(x)",
    "int(amount * 100.0) + double(q)",
    's.startsWith("x") && size(s) < 3 && s.upperAscii() != "" && string(a) + s == "1x"',
    'getDayOfWeek(ts, "Asia/Shanghai") == 0 && truncate(ts, duration("1h")) > timestamp("2024-01-01T00:00:00Z")',
    "coalesce(a, b, 0) + math.abs(c) + greatest(a, b)",
    'matches(s, "^a.*b$") && extract(s, "(\\\\d+)") != "" && regexReplace(s, "a", "b") != s',
    'jsonPath(j, "$.a[0]") == 1 && toJson(j) != "" && hash(s) % 16 == 0 && sha256(s) != md5(s)',
    "s + \"it's\"",
    "x in tags",
  ])("%s reads back to the same canonical CEL", (cel) => {
    if (cel.includes("exists_one")) {
      expect(celToSql(cel)).toEqual({ ok: false, reason: expect.stringContaining("macros") });
      return;
    }
    expect(canonicalExpression(roundTrip(cel))).toBe(canonicalExpression(cel));
  });

  it("writes every Sluice CEL function in SQL and reads it back as the same function", () => {
    for (const name of functionNames()) {
      const arity = FUNCTIONS.get(name)![0].params.length;
      const args = ["a", "b", "c"].slice(0, arity).join(", ");
      const cel = `${name}(${args})`;
      const sql = celToSql(cel);
      expect(sql.ok, `${name}: ${JSON.stringify(sql)}`).toBe(true);
      expect(canonicalExpression(roundTrip(cel)), name).toBe(canonicalExpression(cel));
    }
  });

  it("says why an expression has no SQL form", () => {
    expect(celToSql("l.map(x, x + 1)")).toMatchObject({ ok: false, reason: expect.stringContaining("macros") });
    expect(celToSql('{"a": 1}')).toMatchObject({ ok: false, reason: expect.stringContaining("map literals") });
    expect(celToSql("has(a.b)")).toMatchObject({ ok: false, reason: expect.stringContaining("IS NOT NULL") });
    expect(celToSql("[1, 2]")).toMatchObject({ ok: false, reason: expect.stringContaining("list literals") });
  });

  it("reads SQL-only spellings as Sluice CEL", () => {
    const cel = (sql: string) => {
      const [stmt] = parseStatements(`SELECT * FROM t WHERE ${sql}`);
      return sqlToCel(stmt.where, "").cel;
    };
    expect(cel("s LIKE 'a_c%'")).toBe('matches(s, "^a.c.*$")');
    expect(cel("a BETWEEN 1 AND 5")).toBe("a >= 1 && a <= 5");
    expect(cel("a IS NULL AND b IS NOT NULL")).toBe("isNull(a) && !isNull(b)");
    expect(cel("s || 'x' = 'yx'")).toBe('s + "x" == "yx"');
    expect(cel("CHAR_LENGTH(s) > 2 AND LOWER(s) <> 'x'")).toBe('size(s) > 2 && lowerAscii(s) != "x"');
    expect(cel("CASE status WHEN 200 THEN TRUE ELSE FALSE END")).toBe("status == 200 ? true : false");
    expect(cel("ts > 0 AND ts + INTERVAL '1' HOUR > 5")).toBe('ts > 0 && ts + duration("3600000ms") > 5');
    expect(cel("s = 'it''s'")).toBe('s == "it\'s"');
  });
});

const clicks: StreamSchema = [
  { name: "user_id", type: "string" },
  { name: "amount", type: "float" },
  { name: "country", type: "string" },
  { name: "ts", type: "timestamp" },
];
const ctx = { streams: (n: string) => (n === "ods.ads.clicks" ? { schema: clicks } : undefined) };

describe("SQL → pipeline", () => {
  it("builds every operator from the documented dialect", () => {
    const p = fromSql(`
      CREATE VIEW big AS
      SELECT user_id AS user, CAST(amount * 100.0 AS BIGINT) AS cents, country, ts
      FROM \`ods.ads.clicks\` WHERE amount > 10.0;

      INSERT INTO \`dws.ads.per_minute\`
      SELECT country, window_start AS minute, window_end, COUNT(*) AS clicks, SUM(cents) AS cents, TOP_K(user, 3) AS top
      FROM TABLE(TUMBLE(big, DESCRIPTOR(ts), INTERVAL '1' MINUTE, WATERMARK(INTERVAL '0.250' SECOND), ALLOWED_LATENESS(INTERVAL '1' MINUTE)))
      GROUP BY country, window_start, window_end;

      INSERT INTO \`dwd.ads.routed_eu\`
      SELECT * FROM big WHERE CASE WHEN country IN ('FR', 'DE') THEN 'eu' ELSE 'else' END = 'eu';
      INSERT INTO \`dwd.ads.routed_rest\`
      SELECT * FROM big WHERE CASE WHEN country IN ('FR', 'DE') THEN 'eu' ELSE 'else' END = 'else';

      INSERT INTO \`dwd.ads.both\`
      SELECT *, 'big' AS origin FROM big UNION ALL SELECT *, 'enriched' AS origin FROM TABLE(enrich(big, 2));
    `);
    const byType = (t: string) => p.nodes.filter((n) => n.type === t);
    expect(byType("source")).toHaveLength(1);
    expect(byType("filter")[0].config).toEqual({ predicate: "amount > 10.0" });
    expect(byType("projection")[0]).toMatchObject({ id: "big", config: { fields: [{ name: "user", from: "user_id" }, { name: "cents", expr: "amount * 100.0", cast: "int" }, { name: "country", from: "country" }, { name: "ts", from: "ts" }] } });
    expect(byType("window")[0].config).toMatchObject({
      window: { kind: "tumbling", size: "1m" }, timeField: "ts", maxOutOfOrderness: "250ms", allowedLateness: "1m", windowStartField: "minute",
      keys: [{ name: "country", expr: "country" }],
      aggregates: [{ name: "clicks", fn: "count" }, { name: "cents", fn: "sum", field: "cents" }, { name: "top", fn: "top_k", field: "user", k: 3 }],
    });
    expect(byType("split")).toHaveLength(1);
    expect(byType("split")[0].config).toMatchObject({ outputs: [{ name: "eu", condition: 'country in ["FR", "DE"]' }], mode: "first", unmatched: "else" });
    expect(byType("union")[0].config).toEqual({ sourceField: "origin" });
    expect(p.edges.filter((e) => e.target === byType("union")[0].id).map((e) => e.targetPort).sort()).toEqual(["big", "enriched"]);
    expect((byType("udf")[0].config as { function: unknown }).function).toEqual({ name: "enrich", version: 2 });
    expect(byType("sink").map((n) => (n.config as { stream: string }).stream).sort()).toEqual(["dwd.ads.both", "dwd.ads.routed_eu", "dwd.ads.routed_rest", "dws.ads.per_minute"]);
    // Laid out left to right: every edge goes rightwards.
    const x = new Map(p.nodes.map((n) => [n.id, n.position.x]));
    for (const e of p.edges) expect(x.get(e.target)!).toBeGreaterThan(x.get(e.source)!);
  });

  it("reads WITH names like views", () => {
    const p = fromSql("INSERT INTO `o` WITH f AS (SELECT * FROM `s` WHERE a > 1), g AS (SELECT a FROM f) SELECT * FROM g WHERE a < 5");
    expect(p.nodes.map((n) => [n.id, n.type])).toEqual([["s", "source"], ["f", "filter"], ["g", "projection"], ["filter", "filter"], ["o", "sink"]]);
  });

  it.each([
    ["SELECT * FROM `ods.ads.clicks`", "bare SELECT writes nowhere", 1, 1],
    ["INSERT INTO `x`\nSELECT DISTINCT a FROM `y`", "DISTINCT", 2, 1],
    ["INSERT INTO `x` SELECT a FROM `y` JOIN `z` ON a = b", "Sluice pipelines do not join", 1, 40],
    ["INSERT INTO `x` SELECT a FROM `y` UNION SELECT a FROM `z`", "use UNION ALL", 1, 41],
    ["INSERT INTO `x` SELECT a, COUNT(*) AS n FROM `y` GROUP BY a", "GROUP BY needs a window", 1, 59],
    ["INSERT INTO `x`\n  SELECT a FROM `y` WHERE a >", "syntax error: unexpected end of text", 2, 30],
    ["INSERT INTO `x` SELECT a FROM TABLE(HOP(`y`, DESCRIPTOR(ts), INTERVAL '1' MINUTE))", "HOP(input, DESCRIPTOR(ts), INTERVAL slide, INTERVAL size)", 1, 37],
    ["INSERT INTO `x` SELECT a FROM TABLE(TUMBLE(`y`, DESCRIPTOR(ts), INTERVAL '5' MILLISECOND))", "syntax error", 1, 78],
  ])("refuses %j with a message and its place", (sql, message, line, column) => {
    const r = sqlToPipeline(sql);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toContain(message);
    expect(r.error.span).toMatchObject({ line, column });
  });

  it("maps validator diagnostics back to the SQL line and column", () => {
    const sql = "INSERT INTO `dwd.ads.big`\nSELECT user_id AS user, amount * 2.0 AS twice\nFROM `ods.ads.clicks`\nWHERE amont > 10.0 AND contry = 'FR';\n";
    const r = sqlToPipeline(sql);
    if (!r.ok) throw new Error(r.error.message);
    const p = pipeline(r.pipeline);
    const { diagnostics } = validatePipeline(p, ctx);
    const mapped = mapDiagnostics(diagnostics, r.sourceMap).filter((d) => d.code === "unknown-field");
    expect(mapped.map((d) => [d.message.slice(0, 21), d.span?.line, d.span?.column])).toEqual([
      ['unknown field "amont"', 4, 7],
      ['unknown field "contry', 4, 24],
    ]);
  });

  it("maps a diagnostic on a node's config to the clause that made it", () => {
    const sql = "INSERT INTO `dwd.x`\nSELECT country, window_start, window_end, SUM(user_id) AS s\nFROM TABLE(TUMBLE(`ods.ads.clicks`, DESCRIPTOR(ts), INTERVAL '1' MINUTE))\nGROUP BY country, window_start, window_end;";
    const r = sqlToPipeline(sql);
    if (!r.ok) throw new Error(r.error.message);
    const { diagnostics } = validatePipeline(pipeline(r.pipeline), ctx);
    const sum = mapDiagnostics(diagnostics, r.sourceMap).find((d) => d.severity === "error");
    expect(sum?.message).toMatch(/sum/i);
    expect(sum?.span).toMatchObject({ line: 2, column: 43 });
  });
});

describe("pipeline → SQL", () => {
  const base = (mid: PipelineInput["nodes"][number]): PipelineInput => ({
    version: 1,
    nodes: [{ id: "s", type: "source", config: { stream: "ods.ads.clicks" } }, mid, { id: "k", type: "sink", config: { stream: "dwd.x" } }],
    edges: [{ source: "s", target: mid.id }, { source: mid.id, sourcePort: mid.type === "split" ? "a" : "out", target: "k" }],
  });

  it.each([
    [{ id: "m", type: "projection", config: { fields: [{ name: "a", from: "amount" }], keepOthers: true, drop: ["ts"] } }, "dropping fields (ts)"],
    [{ id: "m", type: "projection", config: { fields: [{ name: "g", from: "geo" }], flatten: [{ field: "g" }] } }, "flattening"],
    [{ id: "m", type: "udf", config: { function: { inline: { form: "map", source: "(r) => r" } } } }, "inline JavaScript"],
    [{ id: "m", type: "filter", config: { predicate: "tags.all(t, t != '')" } }, "macros"],
  ] as [PipelineInput["nodes"][number], string][])("names the node SQL cannot express and why (%#)", (node, why) => {
    const r = pipelineToSql(pipeline(base(node)));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0].nodeId).toBe("m");
    expect(r.problems[0].message).toContain(why);
  });

  it("cuts long chains into views, so a 300-Filter pipeline reads back", () => {
    const nodes: PipelineInput["nodes"] = [{ id: "s", type: "source", config: { stream: "ods.ads.clicks" } }];
    const edges: NonNullable<PipelineInput["edges"]> = [];
    for (let i = 0; i < 300; i++) {
      nodes.push({ id: `f${i}`, type: "filter", config: { predicate: `amount > ${i}.0` } });
      edges.push({ source: i ? `f${i - 1}` : "s", target: `f${i}` });
    }
    nodes.push({ id: "k", type: "sink", config: { stream: "dwd.x" } });
    edges.push({ source: "f299", target: "k" });
    const r = pipelineToSql(pipeline({ version: 1, nodes, edges }));
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.sql.split("CREATE VIEW").length - 1).toBe(50);
    const back = fromSql(r.sql);
    expect(back.nodes.filter((n) => n.type === "filter")).toHaveLength(300);
    expect(pipelineToSql(back)).toEqual(r);
  });

  it("writes a Split in all mode as IN over one CASE per output, and reads it back", () => {
    const p = pipeline({
      version: 1,
      nodes: [
        { id: "s", type: "source", config: { stream: "ods.ads.clicks" } },
        { id: "sp", type: "split", config: { outputs: [{ name: "big", condition: "amount > 100.0" }, { name: "fr", condition: 'country == "FR"' }], mode: "all", unmatched: "else" } },
        { id: "k1", type: "sink", config: { stream: "dwd.big" } },
        { id: "k2", type: "sink", config: { stream: "dwd.fr" } },
        { id: "k3", type: "sink", config: { stream: "dwd.rest" } },
      ],
      edges: [{ source: "s", target: "sp" }, { source: "sp", sourcePort: "big", target: "k1" }, { source: "sp", sourcePort: "fr", target: "k2" }, { source: "sp", sourcePort: "else", target: "k3" }],
    });
    const r = pipelineToSql(p);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.sql).toContain("WHERE 'big' IN (CASE WHEN amount > 100.0 THEN 'big' END, CASE WHEN country = 'FR' THEN 'fr' END, CASE WHEN (amount > 100.0) OR (country = 'FR') THEN NULL ELSE 'else' END);");
    const back = fromSql(r.sql);
    expect(back.nodes.find((n) => n.type === "split")?.config).toMatchObject({ mode: "all", unmatched: "else" });
    expect(pipelineToSql(back)).toEqual(r);
    const wrongElse = sqlToPipeline(r.sql.replace("THEN NULL ELSE 'else' END);", "THEN NULL ELSE 'else' END);").replace("(amount > 100.0) OR (country = 'FR') THEN NULL", "amount > 5.0 THEN NULL"));
    expect(wrongElse).toMatchObject({ ok: false, error: { message: expect.stringContaining("names the else output when no output matched") } });
  });

  it("writes a graph still being built: nodes that reach no Sink are views", () => {
    const r = pipelineToSql(pipeline({ version: 1, nodes: [{ id: "s", type: "source", config: { stream: "ods.ads.clicks" } }, { id: "f", type: "filter", config: { predicate: "amount > 1.0" } }], edges: [{ source: "s", target: "f" }] }));
    expect(r).toEqual({ ok: true, sql: "CREATE VIEW f AS\nSELECT * FROM `ods.ads.clicks`\nWHERE amount > 1.0;\n" });
  });
});

describe("docs/sql.md", () => {
  it("every SQL example in the docs and the README builds a pipeline whose SQL reads back the same", async () => {
    const { readFileSync } = await import("node:fs");
    const blocks = ["docs/sql.md", "README.md"].flatMap((f) => [...readFileSync(f, "utf8").matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]));
    const scripts = blocks.filter((b) => /^\s*(--[^\n]*\n\s*)*(INSERT|CREATE)/.test(b));
    expect(scripts.length).toBeGreaterThanOrEqual(2);
    for (const sql of scripts) {
      const p = fromSql(sql);
      const back = pipelineToSql(p);
      expect(back.ok, JSON.stringify(back)).toBe(true);
      if (back.ok) expect(pipelineToSql(fromSql(back.sql))).toEqual(back);
    }
  });
});
