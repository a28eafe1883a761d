import type { Prisma, Role } from "@prisma/client";
import { z } from "zod";
import { recordAudit } from "@/lib/audit/record";
import type { Principal } from "@/lib/auth/principal";
import { roleAtLeast, ROLES } from "@/lib/auth/roles";
import { requireTeamRole } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";
import { AppError, notFound } from "@/lib/errors";
import { displayName } from "@/lib/validation/display-name";
import { generateTokenSecret, hashToken } from "./token-secret";

export const createTokenInput = z.object({
  name: displayName(1, 80),
  role: z.enum(["owner", "editor", "viewer"]).default("editor"),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
export type CreateTokenInput = z.input<typeof createTokenInput>;

/**
 * - `active`: works.
 * - `suspended`: not revoked, but its creator is no longer in the team with at
 *   least the token's role (or their account is gone), so it does not work.
 *   Leaving or a demotion revokes tokens at once; this covers every other way.
 */
export type TokenState = "active" | "expired" | "revoked" | "suspended";

export interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  /** Who created it (the token acts with their standing); null when that account was deleted. */
  createdBy: { id: string; name: string; email: string } | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  revokedReason: string | null;
  state: TokenState;
}

type TokenRow = Prisma.ApiTokenGetPayload<{ include: { createdBy: { include: { memberships: true } } } }>;
const withCreator = { createdBy: { include: { memberships: true } } } satisfies Prisma.ApiTokenInclude;

function stateOf(t: TokenRow): TokenState {
  if (t.revokedAt) return "revoked";
  if (t.expiresAt && t.expiresAt < new Date()) return "expired";
  const standing = t.createdBy?.memberships.find((m) => m.teamId === t.teamId)?.role;
  return standing && roleAtLeast(standing, t.role) ? "active" : "suspended";
}

const toInfo = (t: TokenRow): TokenInfo => ({
  id: t.id, name: t.name, role: t.role, prefix: t.prefix,
  createdBy: t.createdBy ? { id: t.createdBy.id, name: t.createdBy.name, email: t.createdBy.email } : null,
  createdAt: t.createdAt, lastUsedAt: t.lastUsedAt, expiresAt: t.expiresAt, revokedAt: t.revokedAt, revokedReason: t.revokedReason, state: stateOf(t),
});

/** Creates a team API token. The secret is returned here once and never stored. Owners only. */
export async function createToken(principal: Principal, slug: string, raw: CreateTokenInput): Promise<TokenInfo & { token: string }> {
  const input = createTokenInput.parse(raw);
  const { team, role } = await requireTeamRole(principal, slug, "owner");
  if (!roleAtLeast(role, input.role)) throw new AppError("forbidden", "A token cannot have more rights than its creator.");
  const secret = generateTokenSecret();
  const created = await prisma().$transaction(async (tx) => {
    const t = await tx.apiToken.create({
      data: {
        teamId: team.id,
        name: input.name,
        role: input.role,
        prefix: secret.slice(0, 10),
        tokenHash: hashToken(secret),
        createdById: principal.kind === "user" ? principal.userId : principal.createdById,
        expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null,
      },
      include: withCreator,
    });
    await recordAudit(principal, { teamId: team.id, action: "token.create", entityType: "api_token", entityId: t.id, details: { name: t.name, role: t.role } }, tx);
    return t;
  });
  return { ...toInfo(created), token: secret };
}

/** The team's tokens with their creator, last use and state (owners only). */
export async function listTokens(principal: Principal, slug: string): Promise<TokenInfo[]> {
  const { team } = await requireTeamRole(principal, slug, "owner");
  const rows = await prisma().apiToken.findMany({ where: { teamId: team.id }, include: withCreator, orderBy: { createdAt: "desc" } });
  return rows.map(toInfo);
}

export async function revokeToken(principal: Principal, slug: string, tokenId: string): Promise<void> {
  const { team } = await requireTeamRole(principal, slug, "owner");
  const t = await prisma().apiToken.findFirst({ where: { id: tokenId, teamId: team.id } });
  if (!t) throw notFound("That token");
  if (t.revokedAt) return;
  await prisma().$transaction(async (tx) => {
    await tx.apiToken.update({ where: { id: t.id }, data: { revokedAt: new Date() } });
    await recordAudit(principal, { teamId: team.id, action: "token.revoke", entityType: "api_token", entityId: t.id }, tx);
  });
}

/**
 * Revokes the tokens `userId` created in the team that carry more than
 * `keepUpTo` — all of them when `keepUpTo` is null (the user left or was
 * removed). Runs in the membership change's transaction, so a token never
 * outlives its creator's standing. Returns the revoked tokens' names.
 */
export async function revokeCreatorTokens(
  tx: Prisma.TransactionClient,
  principal: Principal,
  change: { teamId: string; userId: string; keepUpTo: Role | null; reason: string },
): Promise<string[]> {
  const above = ROLES.filter((r) => change.keepUpTo === null || !roleAtLeast(change.keepUpTo, r));
  const tokens = await tx.apiToken.findMany({ where: { teamId: change.teamId, createdById: change.userId, revokedAt: null, role: { in: [...above] } } });
  if (!tokens.length) return [];
  await tx.apiToken.updateMany({ where: { id: { in: tokens.map((t) => t.id) } }, data: { revokedAt: new Date(), revokedReason: change.reason } });
  for (const t of tokens) {
    await recordAudit(principal, { teamId: change.teamId, action: "token.revoke", entityType: "api_token", entityId: t.id, details: { name: t.name, role: t.role, reason: change.reason } }, tx);
  }
  return tokens.map((t) => t.name);
}
