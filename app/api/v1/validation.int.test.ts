import { describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as members from "@/app/api/v1/teams/[team]/members/route";
import * as tokens from "@/app/api/v1/teams/[team]/tokens/route";
import { call, signUp, uniqueName } from "@/scripts/testing/api";

describe("input validation", () => {
  it("answers 422 with field paths for invalid fields", async () => {
    const user = await signUp();
    const res = await call(teams.POST, { caller: user, body: { name: "x", slug: "Not A Slug" } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("invalid_input");
    const paths = res.body.error.details.map((d: { path: string[] }) => d.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["name", "slug"]));
  });

  it("answers 422 for a body that is not JSON", async () => {
    const user = await signUp();
    const res = await call(teams.POST, { caller: user, rawBody: "{not json" });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/not valid JSON/);
  });

  it("answers 409 for a duplicate team slug with a message that says what to do", async () => {
    const user = await signUp();
    const slug = uniqueName("dup");
    expect((await call(teams.POST, { caller: user, body: { name: "One", slug } })).status).toBe(201);
    const again = await call(teams.POST, { caller: user, body: { name: "Two", slug } });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain(slug);
  });

  it("validates nested enums and emails on team routes", async () => {
    const user = await signUp();
    const slug = uniqueName("val");
    await call(teams.POST, { caller: user, body: { name: "Val", slug } });
    const badRole = await call(members.POST, { caller: user, params: { team: slug }, body: { email: "not-an-email", role: "admin" } });
    expect(badRole.status).toBe(422);
    expect(badRole.body.error.details.map((d: { path: string[] }) => d.path[0]).sort()).toEqual(["email", "role"]);
    const badToken = await call(tokens.POST, { caller: user, params: { team: slug }, body: { name: "", expiresInDays: 0 } });
    expect(badToken.status).toBe(422);
  });

  it("refuses to add a member who has no account, with the next step", async () => {
    const user = await signUp();
    const slug = uniqueName("inv");
    await call(teams.POST, { caller: user, body: { name: "Inv", slug } });
    const res = await call(members.POST, { caller: user, params: { team: slug }, body: { email: "ghost@example.test" } });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toMatch(/sign up/);
  });
});
