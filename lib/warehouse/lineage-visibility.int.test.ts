import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as lineageRoute from "@/app/api/v1/teams/[team]/streams/[stream]/lineage/route";
import * as pipelineLineageRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/lineage/route";
import { closeKafka } from "@/lib/kafka/shared";
import { call, copyPipeline, createPipelineWithVersion, signUpWithTeam, uniqueName, type TestUser } from "@/scripts/testing/api";

/**
 * What the lineage view may show another team: a chain that runs through a
 * private stream must not reveal the private stream's name, nor be followed
 * through it to what lies behind.
 */
const hasKafka = !!process.env.KAFKA_BROKERS;
let a: TestUser, b: TestUser;
let A: string, B: string;
let open: string, secret: string, after: string;
const schema = [{ name: "id", type: "string" }];

beforeAll(async () => {
  if (!hasKafka) return;
  [A, B] = [uniqueName("linv-a"), uniqueName("linv-b")];
  [a, b] = await Promise.all([signUpWithTeam(A), signUpWithTeam(B)]);
  [open, secret, after] = ["ods", "dwd", "dws"].map((l) => `${l}.${uniqueName("linv")}`);
  for (const [s, visibility, layer] of [[open, "public", "ODS"], [secret, "private", "DWD"], [after, "public", "DWS"]] as const) {
    expect((await call(streamsRoute.POST, { caller: a, params: { team: A }, body: { name: s, layer, schema, visibility } })).status).toBe(201);
  }
  for (const [name, def] of [["to-secret", copyPipeline(open, secret)], ["from-secret", copyPipeline(secret, after)]] as const) {
    await createPipelineWithVersion(a, A, name, def);
  }
});
afterAll(() => closeKafka());

describe.skipIf(!hasKafka)("lineage across a private stream", () => {
  it("shows the owner team the whole chain, with layers and owner teams", async () => {
    const res = await call(lineageRoute.GET, { caller: a, params: { team: A, stream: open }, path: "/?depth=5" });
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(res.body.nodes.map((n: { id: string }) => [n.id, n]));
    expect(Object.keys(byId)).toEqual(expect.arrayContaining([`stream:${open}`, `pipeline:${A}/to-secret`, `stream:${secret}`, `pipeline:${A}/from-secret`, `stream:${after}`]));
    expect(byId[`stream:${secret}`]).toMatchObject({ kind: "stream", team: A, layer: "DWD" });
    expect(byId[`pipeline:${A}/to-secret`]).toMatchObject({ kind: "pipeline", team: A, state: "draft" });
  });

  it("does not name the private stream to another team, nor follow the chain through it", async () => {
    const down = await call(lineageRoute.GET, { caller: b, params: { team: B, stream: open }, path: "/?depth=5" });
    expect(down.status).toBe(200);
    expect(JSON.stringify(down.body)).not.toContain(secret);
    expect(down.body.nodes.map((n: { id: string }) => n.id).sort()).toEqual([`pipeline:${A}/to-secret`, `stream:${open}`].sort());
    const up = await call(lineageRoute.GET, { caller: b, params: { team: B, stream: after }, path: "/?depth=5" });
    expect(JSON.stringify(up.body)).not.toContain(secret);
    // The producer of a public stream is shown, but not what it reads (private), nor what lies before that.
    expect(up.body.nodes.map((n: { id: string }) => n.id).sort()).toEqual([`pipeline:${A}/from-secret`, `stream:${after}`].sort());
    expect(up.body.edges).toEqual([{ from: `pipeline:${A}/from-secret`, to: `stream:${after}` }]);
    expect((await call(lineageRoute.GET, { caller: b, params: { team: B, stream: secret } })).status).toBe(404);
    // Another team's pipeline cannot be a root: B asking for A's pipeline gets B's namespace, where it does not exist.
    expect((await call(pipelineLineageRoute.GET, { caller: b, params: { team: B, pipeline: "to-secret" } })).status).toBe(404);
  });
});
