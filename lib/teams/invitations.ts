import { randomBytes } from "node:crypto";
import type { Role } from "@prisma/client";
import { z } from "zod";
import { recordAudit } from "@/lib/audit/record";
import { actorUserId, type Principal } from "@/lib/auth/principal";
import { requireTeamRole, requireUser } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";
import { AppError } from "@/lib/errors";
import { hashToken } from "@/lib/tokens/token-secret";

export const inviteInput = z.object({ email: z.email(), role: z.enum(["owner", "editor", "viewer"]).default("viewer") });
const INVITATION_TTL_MS = 7 * 86_400_000;

/**
 * Invites someone by email (owners). Returns the invitation link once; it is
 * the only way to accept (email delivery is not configured), and only a user
 * signed in with the invited email can use it.
 */
export async function inviteMember(principal: Principal, teamSlug: string, raw: z.input<typeof inviteInput>, baseUrl: string) {
  const input = inviteInput.parse(raw);
  const { team } = await requireTeamRole(principal, teamSlug, "owner");
  const email = input.email.toLowerCase();
  const already = await prisma().membership.findFirst({ where: { teamId: team.id, user: { email } } });
  if (already) throw new AppError("conflict", `${email} is already a member of ${team.name}.`);
  const secret = randomBytes(24).toString("base64url");
  const inv = await prisma().$transaction(async (tx) => {
    const inv = await tx.invitation.create({ data: { teamId: team.id, email, role: input.role, tokenHash: hashToken(secret), invitedById: actorUserId(principal), expiresAt: new Date(Date.now() + INVITATION_TTL_MS) } });
    await recordAudit(principal, { teamId: team.id, action: "member.invite", entityType: "invitation", entityId: inv.id, details: { email, role: input.role } }, tx);
    return inv;
  });
  return { id: inv.id, email, role: inv.role, expiresAt: inv.expiresAt, link: `${baseUrl.replace(/\/$/, "")}/invite/${secret}` };
}

export async function listInvitations(principal: Principal, teamSlug: string) {
  const { team } = await requireTeamRole(principal, teamSlug, "owner");
  const rows = await prisma().invitation.findMany({ where: { teamId: team.id, acceptedAt: null, expiresAt: { gt: new Date() } }, orderBy: { createdAt: "desc" } });
  return rows.map((i) => ({ id: i.id, email: i.email, role: i.role, createdAt: i.createdAt, expiresAt: i.expiresAt }));
}

async function findOpen(secret: string) {
  const inv = await prisma().invitation.findUnique({ where: { tokenHash: hashToken(secret) }, include: { team: true } });
  if (!inv || inv.acceptedAt || inv.expiresAt < new Date()) throw new AppError("not_found", "This invitation link is invalid, expired or already used: ask the team's owner for a new one.");
  return inv;
}

/** What an invitation link is for, before accepting it. */
export async function describeInvitation(secret: string): Promise<{ team: string; teamName: string; email: string; role: Role }> {
  const inv = await findOpen(secret);
  return { team: inv.team.slug, teamName: inv.team.name, email: inv.email, role: inv.role };
}

export async function acceptInvitation(principal: Principal, secret: string) {
  const user = requireUser(principal);
  const inv = await findOpen(secret);
  if (user.email.toLowerCase() !== inv.email) {
    throw new AppError("forbidden", `This invitation is for ${inv.email}; you are signed in as ${user.email}.`);
  }
  await prisma().$transaction(async (tx) => {
    await tx.membership.upsert({
      where: { userId_teamId: { userId: user.userId, teamId: inv.teamId } },
      create: { userId: user.userId, teamId: inv.teamId, role: inv.role },
      update: {},
    });
    await tx.invitation.update({ where: { id: inv.id }, data: { acceptedAt: new Date() } });
    await recordAudit(principal, { teamId: inv.teamId, action: "member.join", entityType: "user", entityId: user.userId, details: { invitation: inv.id, role: inv.role } }, tx);
  });
  return { team: inv.team.slug, role: inv.role };
}
