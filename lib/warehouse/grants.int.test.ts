import { beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import * as requestRoute from "@/app/api/v1/teams/[team]/streams/[stream]/access-requests/route";
import * as incomingRoute from "@/app/api/v1/teams/[team]/access-requests/route";
import * as decisionRoute from "@/app/api/v1/teams/[team]/access-requests/[grant]/[decision]/route";
import { prisma } from "@/lib/db/prisma";
import { call, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";

/** Sharing across three teams: A owns streams, B asks for access, C is a bystander. */
const hasKafka = !!process.env.KAFKA_BROKERS;
let a: TestUser, b: TestUser, c: TestUser;
let A: string, B: string, C: string;
let shared: string, secret: string, open: string;
const schema = [{ name: "id", type: "int" }];

beforeAll(async () => {
  if (!hasKafka) return;
  [a, b, c] = await Promise.all([signUp(), signUp(), signUp()]);
  [A, B, C] = [uniqueName("team-a"), uniqueName("team-b"), uniqueName("team-c")];
  for (const [u, slug] of [[a, A], [b, B], [c, C]] as const) await call(teams.POST, { caller: u, body: { name: slug, slug } });
  shared = `dwd.${uniqueName("shared")}`;
  secret = `dwd.${uniqueName("secret")}`;
  open = `dwd.${uniqueName("open")}`;
  for (const [name, visibility] of [[shared, "team"], [secret, "private"], [open, "public"]] as const) {
    expect((await call(streamsRoute.POST, { caller: a, params: { team: A }, body: { name, layer: "DWD", visibility, schema, partitions: 1 } })).status).toBe(201);
    await call(recordsRoute.POST, { caller: a, params: { team: A, stream: name }, body: { records: [{ value: { id: 1 } }] } });
  }
});

const read = (u: TestUser, team: string, stream: string) => call(recordsRoute.GET, { caller: u, params: { team, stream } });
const decide = (u: TestUser, team: string, grant: string, decision: string, note = "") =>
  call(decisionRoute.POST, { caller: u, params: { team, grant, decision }, body: { note } });

describe.skipIf(!hasKafka)("stream sharing across teams", () => {
  it("lists team-visible and public streams to other teams, never private ones", async () => {
    const names = (await call(streamsRoute.GET, { caller: b, params: { team: B } })).body.streams.map((s: { name: string; access: string }) => `${s.name}:${s.access}`);
    expect(names).toContain(`${shared}:see`);
    expect(names).toContain(`${open}:read`);
    expect(names.some((n: string) => n.startsWith(secret))).toBe(false);
    expect((await read(b, B, open)).status).toBe(200);
    expect((await read(b, B, shared)).status).toBe(403);
    expect((await read(b, B, secret)).status).toBe(404);
  });

  it("request → approve → read → revoke → denied, with every step audited for both teams", async () => {
    const req = await call(requestRoute.POST, { caller: b, params: { team: B, stream: shared }, body: { reason: "we build the ads dashboard on it" } });
    expect(req.status).toBe(201);
    expect(req.body).toMatchObject({ status: "requested", stream: shared, team: { slug: B } });

    // The owner team sees it; nobody else does.
    const incoming = await call(incomingRoute.GET, { caller: a, params: { team: A }, path: "/?status=requested" });
    expect(incoming.body.requests.map((r: { id: string }) => r.id)).toEqual([req.body.id]);
    expect(incoming.body.requests[0].reason).toBe("we build the ads dashboard on it");
    expect((await call(incomingRoute.GET, { caller: c, params: { team: A } })).status).toBe(403);
    expect((await call(incomingRoute.GET, { caller: c, params: { team: C } })).body.requests).toEqual([]);

    // Only the owner team's owners decide.
    expect((await decide(b, A, req.body.id, "approve")).status).toBe(403);
    expect((await decide(b, B, req.body.id, "approve")).status).toBe(404);
    expect((await decide(c, C, req.body.id, "approve")).status).toBe(404);
    const approved = await decide(a, A, req.body.id, "approve", "ok for dashboards");
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe("approved");

    const r = await read(b, B, shared);
    expect(r.status).toBe(200);
    expect(r.body.records[0].value).toEqual({ id: 1 });
    expect((await read(c, C, shared)).status).toBe(403);
    expect((await decide(a, A, req.body.id, "approve")).status).toBe(409);

    expect((await decide(a, A, req.body.id, "revoke", "project ended")).body.status).toBe("revoked");
    expect((await read(b, B, shared)).status).toBe(403);

    const teamIds = await prisma().team.findMany({ where: { slug: { in: [A, B] } } });
    for (const t of teamIds) {
      const actions = (await prisma().auditLog.findMany({ where: { teamId: t.id, entityId: req.body.id }, orderBy: { createdAt: "asc" } })).map((l) => l.action);
      expect(actions).toEqual(["grant.request", "grant.approve", "grant.revoke"]);
    }
  });

  it("rejects with a note the requester can read; refuses requests that make no sense", async () => {
    const req = await call(requestRoute.POST, { caller: c, params: { team: C, stream: shared }, body: { reason: "curious about it" } });
    expect((await decide(a, A, req.body.id, "reject", "contains revenue data")).body.status).toBe("rejected");
    const mine = await call(incomingRoute.GET, { caller: c, params: { team: C }, path: "/?direction=outgoing" });
    expect(mine.body.requests[0]).toMatchObject({ stream: shared, status: "rejected", note: "contains revenue data" });
    expect((await read(c, C, shared)).status).toBe(403);

    expect((await call(requestRoute.POST, { caller: b, params: { team: B, stream: open }, body: { reason: "please let us in" } })).status).toBe(409);
    expect((await call(requestRoute.POST, { caller: b, params: { team: B, stream: secret }, body: { reason: "please let us in" } })).status).toBe(404);
    expect((await call(requestRoute.POST, { caller: a, params: { team: A, stream: shared }, body: { reason: "our own stream" } })).status).toBe(409);
    expect((await call(requestRoute.POST, { caller: b, params: { team: B, stream: shared }, body: { reason: "" } })).status).toBe(422);
  });
});
