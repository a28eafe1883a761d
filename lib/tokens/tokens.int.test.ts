import { beforeAll, describe, expect, it } from "vitest";
import * as me from "@/app/api/v1/me/route";
import * as members from "@/app/api/v1/teams/[team]/members/route";
import * as member from "@/app/api/v1/teams/[team]/members/[userId]/route";
import * as tokens from "@/app/api/v1/teams/[team]/tokens/route";
import * as teamRoute from "@/app/api/v1/teams/[team]/route";
import { prisma } from "@/lib/db/prisma";
import { bearer, call, signUp, signUpWithTeam, uniqueName, type Caller, type TestUser } from "@/scripts/testing/api";

/**
 * API tokens outlived their creator's membership (issue 16, Medium 8): a
 * removed owner's token still read the team's data and minted new owner
 * tokens. A token now acts with its creator's standing: leaving, removal and
 * demotion revoke it, and any other loss of standing suspends it.
 */
let owner: TestUser;
let team: string;

interface Token { id: string; name: string; role: string; state: string; revokedReason: string | null; createdBy: { email: string } | null; lastUsedAt: string | null }
const list = async (): Promise<Token[]> => (await call(tokens.GET, { caller: owner, params: { team } })).body.tokens;
const byName = async (name: string) => (await list()).find((t) => t.name === name)!;
const works = async (caller: Caller) => (await call(teamRoute.GET, { caller, params: { team } })).status;

async function addMember(role: "owner" | "editor" | "viewer") {
  const u = await signUp();
  expect((await call(members.POST, { caller: owner, params: { team }, body: { email: u.email, role } })).status).toBe(201);
  const id = (await call(me.GET, { caller: u })).body.user.id as string;
  return { ...u, id };
}

async function mint(caller: Caller, role: "owner" | "editor" | "viewer", name = uniqueName(role)) {
  const res = await call(tokens.POST, { caller, params: { team }, body: { name, role } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { name, secret: res.body.token as string, caller: bearer(res.body.token) };
}

beforeAll(async () => {
  team = uniqueName("tokens");
  owner = await signUpWithTeam(team);
});

describe("API tokens and their creator's membership", () => {
  it("lists each token's creator and last use", async () => {
    const t = await mint(owner, "viewer");
    expect((await byName(t.name)).lastUsedAt).toBeNull();
    expect(await works(t.caller)).toBe(200);
    const row = await byName(t.name);
    expect(row).toMatchObject({ state: "active", createdBy: { email: owner.email } });
    expect(row.lastUsedAt).not.toBeNull();
  });

  it("revokes every token of an owner who is removed, also ones minted with their tokens", async () => {
    const ex = await addMember("owner");
    const own = await mint(ex, "owner");
    const minted = await mint(own.caller, "editor"); // created with a token: acts for the same person
    expect(await works(own.caller)).toBe(200);

    const removed = await call(member.DELETE, { method: "DELETE", caller: owner, params: { team, userId: ex.id } });
    expect(removed.status).toBe(200);
    expect(removed.body.revokedTokens.sort()).toEqual([own.name, minted.name].sort());

    for (const t of [own, minted]) {
      expect(await works(t.caller)).toBe(401);
      const res = await call(tokens.POST, { caller: t.caller, params: { team }, body: { name: "backdoor", role: "owner" } });
      expect(res.status).toBe(401);
      expect(await byName(t.name)).toMatchObject({ state: "revoked", revokedReason: "its creator was removed from the team", createdBy: { email: ex.email } });
    }
    expect((await list()).map((t) => t.name)).not.toContain("backdoor");
  });

  it("revokes a member's tokens when they leave, and nobody else's", async () => {
    const leaver = await addMember("owner");
    const theirs = await mint(leaver, "editor");
    const ours = await mint(owner, "viewer");
    const left = await call(member.DELETE, { method: "DELETE", caller: leaver, params: { team, userId: leaver.id } });
    expect(left.status).toBe(200);
    expect(left.body.revokedTokens).toEqual([theirs.name]);
    expect(await works(theirs.caller)).toBe(401);
    expect(await byName(theirs.name)).toMatchObject({ state: "revoked", revokedReason: "its creator left the team" });
    expect(await works(ours.caller)).toBe(200);
  });

  it("revokes only the tokens above the new role when an owner is demoted", async () => {
    const demoted = await addMember("owner");
    const ownerToken = await mint(demoted, "owner");
    const editorToken = await mint(demoted, "editor");
    const viewerToken = await mint(demoted, "viewer");
    const res = await call(member.PATCH, { method: "PATCH", caller: owner, params: { team, userId: demoted.id }, body: { role: "editor" } });
    expect(res.status).toBe(200);
    expect(res.body.revokedTokens).toEqual([ownerToken.name]);
    expect(await works(ownerToken.caller)).toBe(401);
    expect(await byName(ownerToken.name)).toMatchObject({ state: "revoked", revokedReason: "its creator's role in the team became editor" });
    expect(await works(editorToken.caller)).toBe(200);
    expect(await works(viewerToken.caller)).toBe(200);

    await call(member.PATCH, { method: "PATCH", caller: owner, params: { team, userId: demoted.id }, body: { role: "viewer" } });
    expect(await works(editorToken.caller)).toBe(401);
    expect(await works(viewerToken.caller)).toBe(200);
  });

  it("suspends a token whose creator lost their standing some other way (account deleted, membership changed in the database)", async () => {
    const gone = await addMember("owner");
    const t = await mint(gone, "owner");
    const moved = await addMember("owner");
    const u = await mint(moved, "owner");
    // Not through the API: the checks at authentication hold whatever changed the rows.
    await prisma().membership.update({ where: { userId_teamId: { userId: moved.id, teamId: (await prisma().team.findUniqueOrThrow({ where: { slug: team } })).id } }, data: { role: "viewer" } });
    await prisma().user.delete({ where: { id: gone.id } });

    for (const token of [t, u]) {
      const res = await call(teamRoute.GET, { caller: token.caller, params: { team } });
      expect(res.status).toBe(401);
      expect(res.body.error.message).toMatch(/suspended: the person who created it is no longer an owner of the team/);
    }
    expect(await byName(t.name)).toMatchObject({ state: "suspended", createdBy: null });
    expect(await byName(u.name)).toMatchObject({ state: "suspended", createdBy: { email: moved.email } });
  });
});
