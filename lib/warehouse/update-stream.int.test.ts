import { beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as members from "@/app/api/v1/teams/[team]/members/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as streamRoute from "@/app/api/v1/teams/[team]/streams/[stream]/route";
import { prisma } from "@/lib/db/prisma";
import { call, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";

const hasKafka = !!process.env.KAFKA_BROKERS;
let owner: TestUser, editor: TestUser, viewer: TestUser, outsider: TestUser;
let team: string, other: string, stream: string;

beforeAll(async () => {
  if (!hasKafka) return;
  [owner, editor, viewer, outsider] = await Promise.all([signUp(), signUp(), signUp(), signUp()]);
  [team, other] = [uniqueName("desc"), uniqueName("desc-other")];
  await call(teams.POST, { caller: owner, body: { name: "Desc", slug: team } });
  await call(teams.POST, { caller: outsider, body: { name: "Other", slug: other } });
  for (const [u, role] of [[editor, "editor"], [viewer, "viewer"]] as const) await call(members.POST, { caller: owner, params: { team }, body: { email: u.email, role } });
  stream = `dwd.${uniqueName("desc")}`;
  expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name: stream, layer: "DWD", schema: [{ name: "id", type: "string" }], visibility: "public" } })).status).toBe(201);
});

describe.skipIf(!hasKafka)("editing a stream's description", () => {
  it("lets the owner team's editors change it, audited", async () => {
    const description = "# Clicks\n\nOne record per **click**. Ask [ads](https://example.com).";
    const res = await call(streamRoute.PATCH, { method: "PATCH", caller: editor, params: { team, stream }, body: { description } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.description).toBe(description);
    expect((await call(streamRoute.GET, { caller: viewer, params: { team, stream } })).body.description).toBe(description);
    const audit = await prisma().auditLog.findFirst({ where: { entityId: res.body.id, action: "stream.update" } });
    expect(audit?.details).toEqual({ name: stream, fields: ["description"] });
  });

  it("refuses viewers, other teams and descriptions over the limit", async () => {
    const asViewer = await call(streamRoute.PATCH, { method: "PATCH", caller: viewer, params: { team, stream }, body: { description: "x" } });
    expect(asViewer.status).toBe(403);
    expect(asViewer.body.error.message).toContain("needs the editor role");
    // A public stream is readable by every team but only its owner team changes it.
    const asOther = await call(streamRoute.PATCH, { method: "PATCH", caller: outsider, params: { team: other, stream }, body: { description: "mine now" } });
    expect(asOther.status).toBe(403);
    expect(asOther.body.error.message).toContain(`Only team "${team}"`);
    const tooLong = await call(streamRoute.PATCH, { method: "PATCH", caller: owner, params: { team, stream }, body: { description: "x".repeat(20_001) } });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.error.details[0].path).toEqual(["description"]);
    expect((await call(streamRoute.GET, { caller: owner, params: { team, stream } })).body.description).toContain("# Clicks");
  });
});
