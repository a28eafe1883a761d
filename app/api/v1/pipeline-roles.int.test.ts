import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as members from "@/app/api/v1/teams/[team]/members/route";
import * as tokens from "@/app/api/v1/teams/[team]/tokens/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as pipelinesRoute from "@/app/api/v1/teams/[team]/pipelines/route";
import * as versionsRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/versions/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import { closeKafka } from "@/lib/kafka/shared";
import { bearer, call, copyPipeline, signUp, uniqueName, type Caller, type TestUser } from "@/scripts/testing/api";

/** Viewers read pipelines but never change what runs: saving a version and deploying need the editor role. */
const hasKafka = !!process.env.KAFKA_BROKERS;
let owner: TestUser, editor: TestUser, viewer: TestUser;
let viewerToken: Caller;
let team: string, source: string, sink: string;
const pipeline = "copy-clicks";
const schema = [{ name: "id", type: "string" }];
const definition = () => copyPipeline(source, sink);

beforeAll(async () => {
  if (!hasKafka) return;
  [owner, editor, viewer] = await Promise.all([signUp(), signUp(), signUp()]);
  team = uniqueName("roles");
  await call(teams.POST, { caller: owner, body: { name: "Roles", slug: team } });
  for (const [u, role] of [[editor, "editor"], [viewer, "viewer"]] as const) {
    expect((await call(members.POST, { caller: owner, params: { team }, body: { email: u.email, role } })).status).toBe(201);
  }
  viewerToken = bearer((await call(tokens.POST, { caller: owner, params: { team }, body: { name: "read-only", role: "viewer" } })).body.token);
  [source, sink] = [`ods.${uniqueName("roles")}`, `dwd.${uniqueName("roles")}`];
  for (const name of [source, sink]) expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name, layer: "ODS", partitions: 1, schema } })).status).toBe(201);
  expect((await call(pipelinesRoute.POST, { caller: owner, params: { team }, body: { name: pipeline } })).status).toBe(201);
});
afterAll(() => closeKafka());

describe.skipIf(!hasKafka)("pipeline versions and deployments by role", () => {
  it("refuses a viewer (member or token) saving a version or deploying, with 403 and the role it needs", async () => {
    for (const caller of [viewer, viewerToken]) {
      const save = await call(versionsRoute.POST, { caller, params: { team, pipeline }, body: { pipeline: definition() } });
      expect(save.status).toBe(403);
      expect(save.body.error.message).toContain("needs the editor role");
    }
    // A version exists now, so a refused deploy is about the role, not a missing version.
    expect((await call(versionsRoute.POST, { caller: owner, params: { team, pipeline }, body: { pipeline: definition() } })).status).toBe(201);
    for (const caller of [viewer, viewerToken]) {
      const dep = await call(deployRoute.POST, { caller, params: { team, pipeline }, body: {} });
      expect(dep.status).toBe(403);
      expect(dep.body.error.message).toContain("needs the editor role");
    }
    // Viewers still read the versions.
    const list = await call(versionsRoute.GET, { caller: viewer, params: { team, pipeline } });
    expect(list.status).toBe(200);
    expect(list.body.versions.map((v: { version: number }) => v.version)).toEqual([1]);
  });

  it("lets an editor save a version and deploy it", async () => {
    const save = await call(versionsRoute.POST, { caller: editor, params: { team, pipeline }, body: { pipeline: definition(), message: "editor's version" } });
    expect(save.status, JSON.stringify(save.body)).toBe(201);
    expect(save.body.version).toBe(2);
    const dep = await call(deployRoute.POST, { caller: editor, params: { team, pipeline }, body: {} });
    expect(dep.status, JSON.stringify(dep.body)).toBe(200);
    expect(dep.body).toMatchObject({ version: 2, parallelism: 1 });
    // Leave nothing running for the next test files' workers.
    expect((await call(stopRoute.POST, { caller: editor, params: { team, pipeline } })).status).toBe(200);
  });
});
