import { describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as team from "@/app/api/v1/teams/[team]/route";
import * as invitations from "@/app/api/v1/teams/[team]/invitations/route";
import * as accept from "@/app/api/v1/invitations/[token]/accept/route";
import { prisma } from "@/lib/db/prisma";
import { call, signUp, uniqueName } from "@/scripts/testing/api";

describe("team invitations", () => {
  it("invites by email with a link shown once; only that email can accept, once", async () => {
    const owner = await signUp();
    const slug = uniqueName("inv");
    await call(teams.POST, { caller: owner, body: { name: "Invites", slug } });
    const invitee = await signUp();
    const other = await signUp();

    const created = await call(invitations.POST, { caller: owner, params: { team: slug }, body: { email: invitee.email, role: "editor" } });
    expect(created.status).toBe(201);
    const token = created.body.link.split("/invite/")[1];
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const listed = await call(invitations.GET, { caller: owner, params: { team: slug } });
    expect(listed.body.invitations).toEqual([expect.objectContaining({ email: invitee.email, role: "editor" })]);
    expect(JSON.stringify(listed.body)).not.toContain(token);
    expect((await prisma().invitation.findFirstOrThrow({ where: { email: invitee.email } })).tokenHash).not.toContain(token);

    // Someone else cannot use it; a non-owner cannot invite.
    const wrong = await call(accept.POST, { caller: other, params: { token }, body: {} });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.message).toContain(invitee.email);
    expect((await call(invitations.POST, { caller: other, params: { team: slug }, body: { email: "x@example.test" } })).status).toBe(403);

    const ok = await call(accept.POST, { caller: invitee, params: { token }, body: {} });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ team: slug, role: "editor" });
    expect((await call(team.GET, { caller: invitee, params: { team: slug } })).body.role).toBe("editor");
    const again = await call(accept.POST, { caller: invitee, params: { token }, body: {} });
    expect(again.status).toBe(404);
    expect(again.body.error.message).toMatch(/already used/);
    expect((await call(invitations.POST, { caller: owner, params: { team: slug }, body: { email: invitee.email } })).status).toBe(409);
  });
});
