import { beforeAll, describe, expect, it } from "vitest";
import * as me from "@/app/api/v1/me/route";
import * as teams from "@/app/api/v1/teams/route";
import * as team from "@/app/api/v1/teams/[team]/route";
import * as members from "@/app/api/v1/teams/[team]/members/route";
import * as member from "@/app/api/v1/teams/[team]/members/[userId]/route";
import * as tokens from "@/app/api/v1/teams/[team]/tokens/route";
import { bearer, call, signUp, uniqueName, type Caller, type TestUser } from "@/scripts/testing/api";

/**
 * The 401/403 matrix across two teams: every team-scoped route, called with no
 * credentials, as an outsider, as a token of the other team, and with each role.
 */
type Route = { name: string; fn: (req: Request, ctx: { params: Promise<any> }) => Promise<Response>; method: string; body?: unknown; needs: "viewer" | "owner" };

let ownerA: TestUser, editorA: TestUser, viewerA: TestUser, ownerB: TestUser;
let slugA: string, slugB: string;
let tokenB: string, viewerTokenA: string;

beforeAll(async () => {
  [ownerA, editorA, viewerA, ownerB] = await Promise.all([signUp(), signUp(), signUp(), signUp()]);
  slugA = uniqueName("team-a");
  slugB = uniqueName("team-b");
  expect((await call(teams.POST, { caller: ownerA, body: { name: "Team A", slug: slugA } })).status).toBe(201);
  expect((await call(teams.POST, { caller: ownerB, body: { name: "Team B", slug: slugB } })).status).toBe(201);
  for (const [u, role] of [[editorA, "editor"], [viewerA, "viewer"]] as const) {
    const r = await call(members.POST, { caller: ownerA, params: { team: slugA }, body: { email: u.email, role } });
    expect(r.status).toBe(201);
  }
  tokenB = (await call(tokens.POST, { caller: ownerB, params: { team: slugB }, body: { name: "b", role: "owner" } })).body.token;
  viewerTokenA = (await call(tokens.POST, { caller: ownerA, params: { team: slugA }, body: { name: "ro", role: "viewer" } })).body.token;
});

const routes: Route[] = [
  { name: "GET team", fn: team.GET, method: "GET", needs: "viewer" },
  { name: "GET members", fn: members.GET, method: "GET", needs: "viewer" },
  { name: "POST members", fn: members.POST, method: "POST", body: { email: "nobody@example.test", role: "viewer" }, needs: "owner" },
  { name: "GET tokens", fn: tokens.GET, method: "GET", needs: "owner" },
  { name: "POST tokens", fn: tokens.POST, method: "POST", body: { name: "x", role: "viewer" }, needs: "owner" },
];

describe("authorization matrix on team A's routes", () => {
  it.each(routes)("$name: 401 without credentials, as JSON, with no data", async (r) => {
    const res = await call(r.fn, { method: r.method, params: { team: slugA }, body: r.body });
    expect(res.status).toBe(401);
    expect(Object.keys(res.body)).toEqual(["error"]);
    expect(res.body.error.code).toBe("unauthenticated");
  });

  it.each(routes)("$name: 403 for a member of team B and for team B's token", async (r) => {
    for (const caller of [ownerB, bearer(tokenB)] as Caller[]) {
      const res = await call(r.fn, { method: r.method, params: { team: slugA }, body: r.body, caller });
      expect(res.status).toBe(403);
      expect(Object.keys(res.body)).toEqual(["error"]);
      expect(JSON.stringify(res.body)).not.toContain("Team A");
    }
  });

  it.each(routes)("$name: allowed or 403 by role", async (r) => {
    const cases: [Caller, "owner" | "editor" | "viewer"][] = [[ownerA, "owner"], [editorA, "editor"], [viewerA, "viewer"], [bearer(viewerTokenA), "viewer"]];
    for (const [caller, role] of cases) {
      const res = await call(r.fn, { method: r.method, params: { team: slugA }, body: r.body, caller });
      const allowed = r.needs === "viewer" || role === "owner";
      if (allowed) expect([200, 201, 404, 409]).toContain(res.status);
      else {
        expect(res.status).toBe(403);
        expect(res.body.error.message).toContain(`needs the ${r.needs} role`);
      }
    }
  });

  it("answers the same 403 for a team that does not exist, so team names cannot be probed", async () => {
    const res = await call(team.GET, { caller: ownerB, params: { team: uniqueName("no-such-team") } });
    expect(res.status).toBe(403);
  });

  it("lists only the caller's own teams", async () => {
    const res = await call(me.GET, { caller: ownerB });
    expect(res.body.teams.map((t: { slug: string }) => t.slug)).toEqual([slugB]);
  });

  it("lets a viewer leave but not remove others; keeps the last owner", async () => {
    const list = (await call(members.GET, { caller: viewerA, params: { team: slugA } })).body.members as { userId: string; email: string }[];
    const ownerId = list.find((m) => m.email === ownerA.email)!.userId;
    const editorId = list.find((m) => m.email === editorA.email)!.userId;
    const viewerId = list.find((m) => m.email === viewerA.email)!.userId;
    expect((await call(member.DELETE, { method: "DELETE", caller: viewerA, params: { team: slugA, userId: editorId } })).status).toBe(403);
    const lastOwner = await call(member.DELETE, { method: "DELETE", caller: ownerA, params: { team: slugA, userId: ownerId } });
    expect(lastOwner.status).toBe(409);
    expect(lastOwner.body.error.message).toMatch(/last owner/);
    expect((await call(member.DELETE, { method: "DELETE", caller: viewerA, params: { team: slugA, userId: viewerId } })).status).toBe(200);
    expect((await call(team.GET, { caller: viewerA, params: { team: slugA } })).status).toBe(403);
  });
});
