import { describe, expect, it } from "vitest";
import * as me from "@/app/api/v1/me/route";
import * as teams from "@/app/api/v1/teams/route";
import * as tokens from "@/app/api/v1/teams/[team]/tokens/route";
import * as token from "@/app/api/v1/teams/[team]/tokens/[tokenId]/route";
import { authRequest, bearer, call, sessionCookie, signUp, uniqueName } from "@/scripts/testing/api";

describe("sign-up and sign-in", () => {
  it("signs up, then signs in with the same password and gets a working session", async () => {
    const user = await signUp();
    const res = await authRequest("/sign-in/email", { email: user.email, password: user.password }, user.ip);
    expect(res.status).toBe(200);
    const who = await call(me.GET, { caller: { headers: { cookie: sessionCookie(res) } } });
    expect(who.status).toBe(200);
    expect(who.body.user.email).toBe(user.email);
    expect(who.body.teams).toEqual([]);
  });

  it("refuses a wrong password without saying whether the account exists", async () => {
    const user = await signUp();
    const wrong = await authRequest("/sign-in/email", { email: user.email, password: "not the password" }, user.ip);
    const unknown = await authRequest("/sign-in/email", { email: `nobody-${user.email}`, password: "not the password" }, user.ip);
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect((await wrong.json()).message).toBe((await unknown.json()).message);
  });

  it("stores passwords hashed, never in clear", async () => {
    const user = await signUp();
    const { prisma } = await import("@/lib/db/prisma");
    const account = await prisma().account.findFirstOrThrow({ where: { user: { email: user.email } } });
    expect(account.password).toBeTruthy();
    expect(account.password).not.toContain(user.password);
  });

  it("rate-limits repeated sign-in attempts from one client", async () => {
    const user = await signUp();
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      const r = await authRequest("/sign-in/email", { email: user.email, password: `wrong-${i}-password` }, user.ip);
      statuses.push(r.status);
    }
    expect(statuses.slice(0, 5).every((s) => s === 401)).toBe(true);
    expect(statuses).toContain(429);
    // Still limited for the right password from that client, for the rest of the window.
    const ok = await authRequest("/sign-in/email", { email: user.email, password: user.password }, user.ip);
    expect(ok.status).toBe(429);
  });
});

describe("API tokens", () => {
  it("creates a team token shown once, authenticates with it, and stops working when revoked", async () => {
    const owner = await signUp();
    const slug = uniqueName("tok");
    expect((await call(teams.POST, { caller: owner, body: { name: slug, slug } })).status).toBe(201);
    const created = await call(tokens.POST, { caller: owner, params: { team: slug }, body: { name: "ci" } });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^slc_[A-Za-z0-9_-]{40,}$/);

    const listed = await call(tokens.GET, { caller: owner, params: { team: slug } });
    expect(listed.body.tokens).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);

    const asToken = await call(me.GET, { caller: bearer(created.body.token) });
    expect(asToken.status).toBe(200);
    expect(asToken.body.teams.map((t: { slug: string }) => t.slug)).toEqual([slug]);

    expect((await call(token.DELETE, { caller: owner, params: { team: slug, tokenId: created.body.id }, method: "DELETE" })).status).toBe(200);
    const revoked = await call(me.GET, { caller: bearer(created.body.token) });
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.code).toBe("unauthenticated");
  });

  it("rejects unknown and malformed bearer tokens with 401 JSON", async () => {
    const unknown = await call(me.GET, { caller: bearer("slc_" + "A".repeat(43)) });
    expect(unknown.status).toBe(401);
    const malformed = await call(me.GET, { caller: { headers: { authorization: "Basic abc" } } });
    expect(malformed.status).toBe(401);
    expect(malformed.body.error.message).toMatch(/Bearer/);
  });
});
