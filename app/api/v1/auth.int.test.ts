import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import * as authRoute from "@/app/api/auth/[...all]/route";
import * as me from "@/app/api/v1/me/route";
import * as teams from "@/app/api/v1/teams/route";
import * as tokens from "@/app/api/v1/teams/[team]/tokens/route";
import * as token from "@/app/api/v1/teams/[team]/tokens/[tokenId]/route";
import { authRequest, BASE, bearer, call, sessionCookie, signUp, uniqueName } from "@/scripts/testing/api";

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

  it("rate-limits repeated sign-in attempts from one client address, whatever accounts they try", async () => {
    const user = await signUp();
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      // Another account each time: only the per-address limit applies.
      const r = await authRequest("/sign-in/email", { email: `${i}-${user.email}`, password: `wrong-${i}-password` }, user.ip);
      statuses.push(r.status);
    }
    expect(statuses.slice(0, 5).every((s) => s === 401)).toBe(true);
    expect(statuses).toContain(429);
    // Still limited for the right password from that client, for the rest of the window.
    const ok = await authRequest("/sign-in/email", { email: user.email, password: user.password }, user.ip);
    expect(ok.status).toBe(429);
  });
});

describe("session tokens at rest (issue 16, Low)", () => {
  const rawToken = (cookie: string) => decodeURIComponent(/session_token=([^;]+)/.exec(cookie)![1]).split(".")[0];
  const sessionRoute = (path: string, cookie: string) =>
    authRoute.POST(new Request(`${BASE}/api/auth${path}`, { method: "POST", headers: { "content-type": "application/json", origin: BASE, cookie }, body: "{}" }));

  it("stores only the SHA-256 of a session token; the cookie still works, refreshes and signs out", async () => {
    const user = await signUp();
    const raw = rawToken(user.headers.cookie);
    const { prisma } = await import("@/lib/db/prisma");
    const stored = (await prisma().session.findMany({ where: { user: { email: user.email } } })).map((s) => s.token);
    expect(stored).toEqual([createHash("sha256").update(raw).digest("hex")]);
    expect(stored[0]).not.toContain(raw);
    // A copy of the database, even with BETTER_AUTH_SECRET beside it, gives no session: a correctly signed cookie
    // holding the stored value (or its listed form) finds nothing. The same forgery of the raw token works.
    const forged = (value: string) => {
      const sig = createHmac("sha256", process.env.BETTER_AUTH_SECRET!).update(value).digest("base64");
      return { headers: { cookie: `better-auth.session_token=${encodeURIComponent(`${value}.${sig}`)}` } };
    };
    expect((await call(me.GET, { caller: forged(raw) })).status).toBe(200);
    expect((await call(me.GET, { caller: forged(stored[0]) })).status).toBe(401);
    expect((await call(me.GET, { caller: forged(`h:${stored[0]}`) })).status).toBe(401);
    expect((await call(me.GET, { caller: user })).status).toBe(200);

    // A second session here, and one made by another web process (its raw token never seen by this one), then
    // "sign out everywhere else": the list of sessions can only give that one as `h:<hash>`, which still revokes it.
    const second = await authRequest("/sign-in/email", { email: user.email, password: user.password }, user.ip);
    const secondCookie = sessionCookie(second);
    const elsewhere = await prisma().session.create({
      data: { id: uniqueName("s"), token: createHash("sha256").update(uniqueName("raw-token-of-another-process")).digest("hex"), userId: (await prisma().user.findUniqueOrThrow({ where: { email: user.email } })).id, expiresAt: new Date(Date.now() + 3_600_000) },
    });
    const listed = await authRoute.GET(new Request(`${BASE}/api/auth/list-sessions`, { headers: { cookie: secondCookie } }));
    const sessions = (await listed.json()) as { token: string }[];
    expect(sessions).toHaveLength(3);
    expect(sessions.map((s) => s.token)).toContain(`h:${elsewhere.token}`);
    expect((await sessionRoute("/revoke-other-sessions", secondCookie)).status).toBe(200);
    expect((await call(me.GET, { caller: user })).status).toBe(401);
    expect(await prisma().session.findUnique({ where: { id: elsewhere.id } })).toBeNull();
    expect((await call(me.GET, { caller: { headers: { cookie: secondCookie } } })).status).toBe(200);
    expect((await sessionRoute("/sign-out", secondCookie)).status).toBe(200);
    expect(await prisma().session.count({ where: { user: { email: user.email } } })).toBe(0);
  });
});

describe("per-account sign-in limit (issue 16, High 4)", () => {
  // A guesser with many addresses: each attempt from another one, so only the per-account limit can stop it.
  let n = 0;
  const freshAddress = () => `198.51.${Math.floor(++n / 250)}.${(n % 250) + 1}`;
  const attempt = (email: string, password: string) => authRequest("/sign-in/email", { email, password }, freshAddress());

  it("stops password guessing on one account from many addresses, also for the right password, and for unknown accounts alike", async () => {
    const user = await signUp();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await attempt(user.email, `guess-${i}-password`)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
    const right = await attempt(user.email, user.password);
    expect(right.status).toBe(429);
    expect(right.headers.get("retry-after")).toMatch(/^\d+$/);
    expect((await right.json()).message).toMatch(/Too many sign-in attempts for this account\. Wait \d+ minutes?/);

    // Someone else's account is not affected; an unknown email is limited the same way (nothing tells which exist).
    const other = await signUp();
    expect((await attempt(other.email, other.password)).status).toBe(200);
    const unknown = `nobody-${user.email}`;
    const unknownStatuses: number[] = [];
    for (let i = 0; i < 11; i++) unknownStatuses.push((await attempt(unknown, `guess-${i}-password`)).status);
    expect(unknownStatuses.slice(9)).toEqual([401, 429]);
  });

  it("starts the count again after a successful sign-in", async () => {
    const user = await signUp();
    for (let i = 0; i < 9; i++) expect((await attempt(user.email, `typo-${i}-password`)).status).toBe(401);
    expect((await attempt(user.email, user.password)).status).toBe(200);
    for (let i = 0; i < 9; i++) expect((await attempt(user.email, `typo-${i}-again`)).status).toBe(401);
    expect((await attempt(user.email, user.password)).status).toBe(200);
  });

  it("ignores a client address header a client sends itself when the web server is not in front", async () => {
    const { withTrustedClientAddress, CLIENT_ADDRESS_HEADER } = await import("@/lib/auth/client-address");
    const g = globalThis as unknown as Record<symbol, boolean | undefined>;
    const mark = Symbol.for("sluice.web-server.resolves-client-address");
    const before = g[mark];
    g[mark] = undefined;
    try {
      const req = new Request(`${BASE}/api/auth/sign-in/email`, { method: "POST", headers: { [CLIENT_ADDRESS_HEADER]: "203.0.113.9" } });
      expect(withTrustedClientAddress(req).headers.has(CLIENT_ADDRESS_HEADER)).toBe(false);
    } finally {
      g[mark] = before;
    }
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
