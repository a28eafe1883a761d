import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as streamRoute from "@/app/api/v1/teams/[team]/streams/[stream]/route";
import * as schemasRoute from "@/app/api/v1/teams/[team]/streams/[stream]/schemas/route";
import * as lineageRoute from "@/app/api/v1/teams/[team]/streams/[stream]/lineage/route";
import * as pipelineLineageRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/lineage/route";
import * as impactRoute from "@/app/api/v1/teams/[team]/streams/[stream]/impact/route";
import { closeKafka } from "@/lib/kafka/shared";
import { call, copyPipeline, createPipelineWithVersion, signUpWithTeam, uniqueName, type TestUser } from "@/scripts/testing/api";

const hasKafka = !!process.env.KAFKA_BROKERS;
let a: TestUser, b: TestUser;
let A: string, B: string;
let s1: string, s2: string, s3: string, hidden: string;
const schema = [{ name: "id", type: "string" }, { name: "n", type: "int" }];

beforeAll(async () => {
  if (!hasKafka) return;
  [A, B] = [uniqueName("lin-a"), uniqueName("lin-b")];
  [a, b] = await Promise.all([signUpWithTeam(A), signUpWithTeam(B)]);
  [s1, s2, s3, hidden] = ["ods", "dwd", "dws", "ads"].map((l) => `${l}.${uniqueName("lin")}`);
  for (const [u, t, s, visibility] of [[a, A, s1, "public"], [a, A, s2, "public"], [b, B, s3, "team"], [a, A, hidden, "private"]] as const) {
    expect((await call(streamsRoute.POST, { caller: u, params: { team: t }, body: { name: s, layer: "DWD", schema, visibility } })).status).toBe(201);
  }
  for (const [u, t, name, def] of [[a, A, "make-s2", copyPipeline(s1, s2)], [b, B, "make-s3", copyPipeline(s2, s3)], [a, A, "make-hidden", copyPipeline(s2, hidden)]] as const) {
    await createPipelineWithVersion(u, t, name, def);
  }
});
afterAll(() => closeKafka());

describe.skipIf(!hasKafka)("lineage and impact", () => {
  it("shows producers and consumers across teams, hiding other teams' private streams", async () => {
    const asB = await call(lineageRoute.GET, { caller: b, params: { team: B, stream: s2 }, path: "/?depth=1" });
    expect(asB.status).toBe(200);
    const ids = asB.body.nodes.map((n: { id: string }) => n.id).sort();
    expect(ids).toEqual([`pipeline:${A}/make-hidden`, `pipeline:${A}/make-s2`, `pipeline:${B}/make-s3`, `stream:${s1}`, `stream:${s2}`, `stream:${s3}`].sort());
    expect(asB.body.edges).toEqual(expect.arrayContaining([{ from: `stream:${s1}`, to: `pipeline:${A}/make-s2` }, { from: `pipeline:${A}/make-s2`, to: `stream:${s2}` }, { from: `stream:${s2}`, to: `pipeline:${B}/make-s3` }]));
    expect(JSON.stringify(asB.body)).not.toContain(hidden);
    const asA = await call(lineageRoute.GET, { caller: a, params: { team: A, stream: s2 }, path: "/?depth=1" });
    expect(asA.body.nodes.map((n: { id: string }) => n.id)).toContain(`stream:${hidden}`);
    const fromPipeline = await call(pipelineLineageRoute.GET, { caller: b, params: { team: B, pipeline: "make-s3" }, path: "/?depth=1" });
    expect(fromPipeline.body.nodes.map((n: { id: string }) => n.id)).toEqual(expect.arrayContaining([`stream:${s2}`, `stream:${s3}`, `pipeline:${A}/make-s2`]));
    expect((await call(lineageRoute.GET, { caller: b, params: { team: B, stream: hidden } })).status).toBe(404);
  });

  it("says who reads a stream, and refuses to delete it under them unless forced", async () => {
    const impact = await call(impactRoute.GET, { caller: a, params: { team: A, stream: s2 } });
    expect(impact.body.summary).toBe("2 pipelines in 2 teams read this");
    const del = await call(streamRoute.DELETE, { method: "DELETE", caller: a, params: { team: A, stream: s2 } });
    expect(del.status).toBe(409);
    expect(del.body.error.message).toContain("2 pipelines in 2 teams read this");
    expect((await call(impactRoute.GET, { caller: b, params: { team: B, stream: s2 } })).status).toBe(403);
  });

  it("publishes compatible schema versions and refuses incompatible ones with the fields named", async () => {
    const ok = await call(schemasRoute.POST, { caller: a, params: { team: A, stream: s1 }, body: { schema: [...schema, { name: "note", type: "string", nullable: true }] } });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ version: 2, compatibility: "BACKWARD" });
    expect(ok.body.impact.summary).toBe("1 pipeline in 1 team read this");
    const bad = await call(schemasRoute.POST, { caller: a, params: { team: A, stream: s1 }, body: { schema: [{ name: "id", type: "int" }, { name: "n", type: "int" }, { name: "must", type: "string" }] } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { message: string }) => d.message)).toEqual(['field "id" changes type from string to int', 'field "must" is new and required: make it nullable so records written before it existed still read']);
    expect((await call(schemasRoute.POST, { caller: b, params: { team: B, stream: s1 }, body: { schema } })).status).toBe(403);
    const forced = await call(schemasRoute.POST, { caller: a, params: { team: A, stream: s1 }, body: { schema: [{ name: "other", type: "bool" }], compatibility: "NONE" } });
    expect(forced.body).toMatchObject({ version: 3, compatibility: "NONE" });
  });
});
