import { beforeAll, describe, expect, it } from "vitest";
import * as tokens from "@/app/api/v1/teams/[team]/tokens/route";
import * as members from "@/app/api/v1/teams/[team]/members/route";
import * as token from "@/app/api/v1/teams/[team]/tokens/[tokenId]/route";
import { BASE, bearer, call, signUp, signUpWithTeam, uniqueName, type TestUser } from "@/scripts/testing/api";

/**
 * CSRF (issue 16, Medium 5): /api/v1 took cookie-authenticated POSTs from a
 * foreign Origin with `text/plain` or form bodies — another site's page minted
 * an owner token and added an owner member in a signed-in owner's name.
 */
let owner: TestUser, bystander: TestUser;
let team: string;
let ownerToken: string;

const tokenNames = async () => ((await call(tokens.GET, { caller: owner, params: { team } })).body.tokens as { name: string }[]).map((t) => t.name);

beforeAll(async () => {
  team = uniqueName("csrf");
  [owner, bystander] = await Promise.all([signUpWithTeam(team), signUp()]);
  ownerToken = (await call(tokens.POST, { caller: owner, params: { team }, body: { name: "automation", role: "owner" } })).body.token;
});

describe("cookie-authenticated state changes", () => {
  const forged: [string, Record<string, string>, number][] = [
    // What a page on another site can send without a CORS preflight:
    ["a text/plain body from a foreign origin", { "content-type": "text/plain", origin: "http://evil.example", "sec-fetch-site": "cross-site" }, 415],
    ["a form body from a foreign origin", { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example", "sec-fetch-site": "cross-site" }, 415],
    ["a multipart form from another port of the same host", { "content-type": "multipart/form-data; boundary=x", origin: "http://localhost:8080", "sec-fetch-site": "same-site" }, 415],
    // …and what it could send if the app ever allowed CORS, or from a non-browser without an origin:
    ["JSON whose browser says cross-site", { "content-type": "application/json", origin: "http://evil.example", "sec-fetch-site": "cross-site" }, 403],
    ["JSON from a sibling origin of the same site", { "content-type": "application/json", origin: "http://localhost:8080", "sec-fetch-site": "same-site" }, 403],
    ["JSON with a foreign Origin and no fetch metadata", { "content-type": "application/json", origin: "http://evil.example" }, 403],
    ["JSON with neither Origin nor fetch metadata", { "content-type": "application/json", origin: "" }, 403],
  ];

  it.each(forged)("refuses %s (no token minted, no member added)", async (_what, headers, status) => {
    const name = uniqueName("forged");
    // An empty origin stands for none (call() would otherwise add the app's).
    const h = { ...owner.headers, ...headers };
    const minted = await call(tokens.POST, { caller: { headers: h }, params: { team }, rawBody: JSON.stringify({ name, role: "owner" }) });
    expect(minted.status, JSON.stringify(minted.body)).toBe(status);
    expect(minted.body.error.message).toMatch(status === 415 ? /Content-Type: application\/json/ : /Cross-site request refused.*API token/);
    const added = await call(members.POST, { caller: { headers: h }, params: { team }, rawBody: JSON.stringify({ email: bystander.email, role: "owner" }) });
    expect(added.status).toBe(status);
    expect(await tokenNames()).not.toContain(name);
    const list = (await call(members.GET, { caller: owner, params: { team } })).body.members as { email: string }[];
    expect(list.map((m) => m.email)).not.toContain(bystander.email);
  });

  it("accepts JSON from the app's own origin, by fetch metadata or by Origin", async () => {
    const byMetadata = await call(tokens.POST, { caller: { headers: { ...owner.headers, origin: "", "sec-fetch-site": "same-origin" } }, params: { team }, body: { name: "from-the-app", role: "viewer" } });
    expect(byMetadata.status, JSON.stringify(byMetadata.body)).toBe(201);
    const byOrigin = await call(tokens.POST, { caller: { headers: { ...owner.headers, origin: BASE } }, params: { team }, body: { name: "from-the-app-2", role: "viewer" } });
    expect(byOrigin.status).toBe(201);
    // A body-less DELETE from the app, as JSON like every other state change.
    const del = await call(token.DELETE, { method: "DELETE", caller: owner, params: { team, tokenId: byOrigin.body.id } });
    expect(del.status).toBe(200);
  });

  it("leaves reads alone: a GET from anywhere cannot change anything, and CORS keeps its answer from other sites", async () => {
    const res = await call(tokens.GET, { caller: { headers: { ...owner.headers, origin: "http://evil.example", "sec-fetch-site": "cross-site" } }, params: { team } });
    expect(res.status).toBe(200);
  });

  it("exempts Bearer-token requests, which a browser never sends on its own", async () => {
    const name = uniqueName("script");
    const res = await call(tokens.POST, { caller: { headers: { ...bearer(ownerToken).headers, origin: "", "content-type": "text/plain" } }, params: { team }, rawBody: JSON.stringify({ name, role: "viewer" }) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(await tokenNames()).toContain(name);
  });
});
