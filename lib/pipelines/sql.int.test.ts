import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as exportRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/export/route";
import * as versionRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/versions/[version]/route";
import * as fromSqlRoute from "@/app/api/v1/teams/[team]/pipelines/from-sql/route";
import * as newFromSqlRoute from "@/app/api/v1/teams/[team]/pipelines/new-from-sql/route";
import * as toSqlRoute from "@/app/api/v1/teams/[team]/pipelines/to-sql/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import { runCli, type CliIO } from "@/lib/cli/main";
import { closeKafka } from "@/lib/kafka/shared";
import { closeRedis } from "@/lib/redis/client";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { BASE, call, signUpWithTeam, uniqueName, type TestUser } from "@/scripts/testing/api";

const hasKafka = !!process.env.KAFKA_BROKERS;
let owner: TestUser;
const team = uniqueName("sql");
const clicks = `ods.${team}.clicks`;
const big = `dwd.${team}.big`;

beforeAll(async () => {
  if (!hasKafka) return;
  owner = await signUpWithTeam(team);
  const schema = [{ name: "user_id", type: "string" }, { name: "amount", type: "float" }, { name: "country", type: "string" }, { name: "ts", type: "timestamp" }];
  expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name: clicks, layer: "ODS", schema } })).status).toBe(201);
  expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name: big, layer: "DWD", schema: [{ name: "user", type: "string" }, { name: "cents", type: "int" }] } })).status).toBe(201);
});

afterAll(async () => {
  await Promise.allSettled([closeTaskQueue(), closeKafka(), closeRedis()]);
});

const good = (clicks: string, big: string) => `-- big clicks, in cents
INSERT INTO \`${big}\`
SELECT user_id AS user, CAST(amount * 100.0 AS BIGINT) AS cents
FROM \`${clicks}\`
WHERE amount > 10.0;
`;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const cio: CliIO = { out: (l) => out.push(l), err: (l) => err.push(l), readStdin: async () => "" };
  return { cio, out, err };
}

describe.skipIf(!hasKafka)("pipelines as SQL over the API", () => {
  it("builds a graph from SQL and places the validator's diagnostics at their line and column", async () => {
    const sql = `INSERT INTO \`${big}\`\nSELECT user_id AS user, CAST(amount * 100.0 AS BIGINT) AS cents\nFROM \`${clicks}\`\nWHERE amont > 10.0;`;
    const res = await call(fromSqlRoute.POST, { caller: owner, params: { team }, body: { sql } });
    expect(res.status).toBe(200);
    expect(res.body.pipeline.nodes.map((n: { type: string }) => n.type).sort()).toEqual(["filter", "projection", "sink", "source"]);
    const unknown = res.body.diagnostics.find((d: { code: string }) => d.code === "unknown-field");
    expect(unknown.message).toContain('did you mean "amount"');
    expect(unknown.span).toMatchObject({ line: 4, column: 7 });
  });

  it("answers a SQL syntax error with 422 and its place", async () => {
    const res = await call(fromSqlRoute.POST, { caller: owner, params: { team }, body: { sql: `INSERT INTO \`${big}\`\nSELECT FROM WHERE` } });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/line 2, column/);
    expect(res.body.error.details[0].span.line).toBe(2);
  });

  it("creates a pipeline from SQL only when it has no errors, then shows it as SQL and exports it to Flink SQL", async () => {
    const name = uniqueName("from-sql");
    const bad = await call(newFromSqlRoute.POST, { caller: owner, params: { team }, body: { name, sql: good(`ods.${team}.nope`, big) } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.find((d: { code: string }) => d.code === "unknown-stream").span).toMatchObject({ line: 4, column: 6 });
    const created = await call(newFromSqlRoute.POST, { caller: owner, params: { team }, body: { name, sql: good(clicks, big) } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ pipeline: name, version: 1 });

    const v1 = await call(versionRoute.GET, { caller: owner, params: { team, pipeline: name, version: "1" } });
    const asSql = await call(toSqlRoute.POST, { caller: owner, params: { team }, body: { pipeline: v1.body.pipeline } });
    expect(asSql.body).toEqual({ sql: `INSERT INTO \`${big}\`\nSELECT user_id AS \`user\`, CAST(amount * 100.0 AS BIGINT) AS cents\nFROM \`${clicks}\`\nWHERE amount > 10.0;\n`, diagnostics: [] });

    const res = await exportRoute.GET(new Request(`${BASE}/api/v1/teams/${team}/pipelines/${name}/export?format=flink-sql&bootstrapServers=kafka:9092`, { headers: { origin: BASE, ...owner.headers } }), { params: Promise.resolve({ team, pipeline: name }) });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(`CREATE TABLE \`${clicks}\``);
    expect(text).toMatch(/'topic' = '[^']+'/);
    expect(text).toContain("'properties.bootstrap.servers' = 'kafka:9092'");
    expect(text).toContain(`INSERT INTO \`${big}\``);
  });

  it("says which node cannot be shown as SQL", async () => {
    const pipeline = { version: 1, nodes: [{ id: "s", type: "source", config: { stream: clicks } }, { id: "sp", type: "udf", config: { function: { inline: { form: "map", source: "(r) => r" } } } }, { id: "k", type: "sink", config: { stream: big } }], edges: [{ source: "s", target: "sp" }, { source: "sp", target: "k" }] };
    const res = await call(toSqlRoute.POST, { caller: owner, params: { team }, body: { pipeline } });
    expect(res.status).toBe(200);
    expect(res.body.sql).toBeNull();
    expect(res.body.diagnostics[0]).toMatchObject({ nodeId: "sp", code: "not-expressible-in-sql", message: expect.stringContaining("inline JavaScript") });
  });
});

describe.skipIf(!hasKafka)("sluice pipeline apply -f query.sql / export", () => {
  it("saves SQL as a version, prints errors at file:line:column, and exports Flink SQL", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-sql-"));
    const file = join(dir, "big-clicks.sql");
    writeFileSync(file, good(clicks, big).replace("amount > 10.0", "amont > 10.0"));
    const bad = io();
    expect(await runCli(["pipeline", "apply", "--team", team, "-f", file], bad.cio)).toBe(1);
    expect(bad.err.join("\n")).toContain(`${file}:5:7: error: unknown field "amont"`);
    expect(bad.err.join("\n")).toContain("  5 | WHERE amont > 10.0;\n    |       ^^^^^");

    writeFileSync(file, good(clicks, big));
    const ok = io();
    expect(await runCli(["pipeline", "apply", "--team", team, "-f", file, "-m", "from SQL"], ok.cio)).toBe(0);
    expect(ok.out[0]).toBe(`Saved big-clicks version 1 from ${file}`);

    const exp = io();
    expect(await runCli(["pipeline", "export", "--team", team, "--name", "big-clicks", "--format", "flink-sql"], exp.cio)).toBe(0);
    expect(exp.out.join("\n")).toContain("EXECUTE STATEMENT SET");
    expect(exp.out.join("\n")).toContain(`'properties.bootstrap.servers' = '${process.env.KAFKA_BROKERS}'`);
  });
});
