import type { Role } from "@prisma/client";
import { recordAudit } from "@/lib/audit/record";
import type { Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";
import { AppError, notFound } from "@/lib/errors";
import { revokeCreatorTokens } from "@/lib/tokens/tokens";

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
  joinedAt: Date;
}

export async function listMembers(principal: Principal, slug: string): Promise<Member[]> {
  const { team } = await requireTeamRole(principal, slug, "viewer");
  const rows = await prisma().membership.findMany({ where: { teamId: team.id }, include: { user: true }, orderBy: { createdAt: "asc" } });
  return rows.map((m) => ({ userId: m.userId, email: m.user.email, name: m.user.name, role: m.role, joinedAt: m.createdAt }));
}

/** Adds an existing user to the team (owners only). */
export async function addMember(principal: Principal, slug: string, input: { email: string; role: Role }): Promise<Member> {
  const { team } = await requireTeamRole(principal, slug, "owner");
  const user = await prisma().user.findUnique({ where: { email: input.email.toLowerCase() } });
  if (!user) throw new AppError("not_found", `No Sluice account uses ${input.email}: ask them to sign up first.`);
  const existing = await prisma().membership.findUnique({ where: { userId_teamId: { userId: user.id, teamId: team.id } } });
  if (existing) throw new AppError("conflict", `${input.email} is already ${existing.role === "owner" ? "an" : "a"} ${existing.role} of ${team.name}.`);
  const m = await prisma().$transaction(async (tx) => {
    const m = await tx.membership.create({ data: { userId: user.id, teamId: team.id, role: input.role } });
    await recordAudit(principal, { teamId: team.id, action: "member.add", entityType: "user", entityId: user.id, details: { role: input.role } }, tx);
    return m;
  });
  return { userId: user.id, email: user.email, name: user.name, role: m.role, joinedAt: m.createdAt };
}

async function ownerCount(teamId: string): Promise<number> {
  return prisma().membership.count({ where: { teamId, role: "owner" } });
}

/** What a membership change did beyond itself: the member's API tokens it revoked (by name). */
export interface MembershipChange {
  revokedTokens: string[];
}

/** Changes a member's role (owners); a demotion revokes the member's tokens that carry more than the new role. */
export async function changeMemberRole(principal: Principal, slug: string, userId: string, role: Role): Promise<MembershipChange> {
  const { team } = await requireTeamRole(principal, slug, "owner");
  const m = await prisma().membership.findUnique({ where: { userId_teamId: { userId, teamId: team.id } } });
  if (!m) throw notFound("That member");
  if (m.role === "owner" && role !== "owner" && (await ownerCount(team.id)) === 1) {
    throw new AppError("conflict", "A team needs at least one owner: make someone else an owner first.");
  }
  return prisma().$transaction(async (tx) => {
    await tx.membership.update({ where: { id: m.id }, data: { role } });
    await recordAudit(principal, { teamId: team.id, action: "member.role", entityType: "user", entityId: userId, details: { from: m.role, to: role } }, tx);
    return { revokedTokens: await revokeCreatorTokens(tx, principal, { teamId: team.id, userId, keepUpTo: role, reason: `its creator's role in the team became ${role}` }) };
  });
}

/** Removes a member (owners) or leaves (anyone); every API token the member created in the team is revoked with it. */
export async function removeMember(principal: Principal, slug: string, userId: string): Promise<MembershipChange> {
  // Anyone may leave; removing someone else needs owner.
  const self = principal.kind === "user" && principal.userId === userId;
  const { team } = await requireTeamRole(principal, slug, self ? "viewer" : "owner");
  const m = await prisma().membership.findUnique({ where: { userId_teamId: { userId, teamId: team.id } } });
  if (!m) throw notFound("That member");
  if (m.role === "owner" && (await ownerCount(team.id)) === 1) {
    throw new AppError("conflict", "The last owner cannot leave: make someone else an owner first.");
  }
  return prisma().$transaction(async (tx) => {
    await tx.membership.delete({ where: { id: m.id } });
    await recordAudit(principal, { teamId: team.id, action: self ? "member.leave" : "member.remove", entityType: "user", entityId: userId }, tx);
    return { revokedTokens: await revokeCreatorTokens(tx, principal, { teamId: team.id, userId, keepUpTo: null, reason: self ? "its creator left the team" : "its creator was removed from the team" }) };
  });
}
