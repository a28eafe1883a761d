import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as pipelinesRoute from "@/app/api/v1/teams/[team]/pipelines/route";
import * as pipelineRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/route";
import * as versionsRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/versions/route";
import * as validateRoute from "@/app/api/v1/teams/[team]/pipelines/validate/route";
import * as newFromSqlRoute from "@/app/api/v1/teams/[team]/pipelines/new-from-sql/route";
import { closeKafka } from "@/lib/kafka/shared";
import { call, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";

/**
 * Issue 18 items 4 and 5: a cycle through a Union is a `cycle` diagnostic
 * (it was a 500 from the canonical hash), and a pipeline is created with its
 * first version, or not at all.
 */
const hasKafka = !!process.env.KAFKA_BROKERS;
let owner: TestUser;
let team: string;
let src: string, sink: string;

const node = (id: string, type: string, config: unknown) => ({ id, type, config, position: { x: 0, y: 0 } });
const unionCycle = () => ({
  version: 1,
  nodes: [node("s", "source", { stream: src }), node("u", "union", {}), node("f", "filter", { predicate: "n > 1" }), node("k", "sink", { stream: sink })],
  edges: [{ source: "s", target: "u" }, { source: "f", target: "u" }, { source: "u", target: "f" }, { source: "f", target: "k" }],
});
const copy = (predicate = "n > 1") => ({
  version: 1,
  nodes: [node("s", "source", { stream: src }), node("f", "filter", { predicate }), node("k", "sink", { stream: sink })],
  edges: [{ source: "s", target: "f" }, { source: "f", target: "k" }],
});

beforeAll(async () => {
  if (!hasKafka) return;
  owner = await signUp();
  team = uniqueName("apply");
  expect((await call(teams.POST, { caller: owner, body: { name: "Apply", slug: team } })).status).toBe(201);
  [src, sink] = [`ods.${uniqueName("apply")}`, `dwd.${uniqueName("apply")}`];
  for (const name of [src, sink]) {
    expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name, layer: "ODS", partitions: 1, schema: [{ name: "n", type: "int" }] } })).status).toBe(201);
  }
});

afterAll(async () => {
  await closeKafka();
});

describe.skipIf(!hasKafka)("cycles through a Union", () => {
  it("are reported by validate as the `cycle` diagnostic on each node of the cycle (was a 500)", async () => {
    const r = await call(validateRoute.POST, { caller: owner, params: { team }, body: { pipeline: unionCycle() } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const cycles = r.body.diagnostics.filter((d: { code: string }) => d.code === "cycle");
    expect(cycles.map((d: { nodeId: string; severity: string }) => [d.nodeId, d.severity])).toEqual([["u", "error"], ["f", "error"]]);
  });

  it("are refused with the diagnostics when saved", async () => {
    const name = uniqueName("cyc");
    expect((await call(pipelinesRoute.POST, { caller: owner, params: { team }, body: { name } })).status).toBe(201);
    const r = await call(versionsRoute.POST, { caller: owner, params: { team, pipeline: name }, body: { pipeline: unionCycle() } });
    expect(r.status).toBe(422);
    expect(r.body.error.details.filter((d: { code: string }) => d.code === "cycle")).toHaveLength(2);
  });
});

describe.skipIf(!hasKafka)("creating a pipeline with its first version", () => {
  it("with a definition that has errors leaves no pipeline behind", async () => {
    const name = uniqueName("bad");
    const r = await call(pipelinesRoute.POST, { caller: owner, params: { team }, body: { name, pipeline: copy("nope > 1") } });
    expect(r.status).toBe(422);
    expect(r.body.error.details.map((d: { code: string; nodeId: string }) => [d.code, d.nodeId])).toContainEqual(["unknown-field", "f"]);
    expect((await call(pipelineRoute.GET, { caller: owner, params: { team, pipeline: name } })).status).toBe(404);
    const list = await call(pipelinesRoute.GET, { caller: owner, params: { team } });
    expect(list.body.pipelines.map((p: { name: string }) => p.name)).not.toContain(name);
  });

  it("with a valid definition creates the pipeline and version 1 together", async () => {
    const name = uniqueName("good");
    const r = await call(pipelinesRoute.POST, { caller: owner, params: { team }, body: { name, pipeline: copy(), message: "first" } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ name, latestVersion: 1 });
    const versions = await call(versionsRoute.GET, { caller: owner, params: { team, pipeline: name } });
    expect(versions.body.versions.map((v: { version: number; message: string }) => [v.version, v.message])).toEqual([[1, "first"]]);
    // The same name again is a conflict, and adds no version.
    expect((await call(pipelinesRoute.POST, { caller: owner, params: { team }, body: { name, pipeline: copy("n > 2") } })).status).toBe(409);
    expect((await call(versionsRoute.GET, { caller: owner, params: { team, pipeline: name } })).body.versions).toHaveLength(1);
  });

  it("from SQL with errors leaves no pipeline behind either", async () => {
    const name = uniqueName("sqlbad");
    const r = await call(newFromSqlRoute.POST, { caller: owner, params: { team }, body: { name, sql: `INSERT INTO \`${sink}\` SELECT n FROM \`${src}\` WHERE nope > 1` } });
    expect(r.status).toBe(422);
    expect((await call(pipelineRoute.GET, { caller: owner, params: { team, pipeline: name } })).status).toBe(404);
  });
});
