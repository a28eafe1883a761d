import type { Role } from "@prisma/client";
import { z } from "zod";
import { recordAudit } from "@/lib/audit/record";
import type { Principal } from "@/lib/auth/principal";
import { roleAtLeast } from "@/lib/auth/roles";
import { requireTeamRole } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";
import { AppError, notFound } from "@/lib/errors";
import { generateTokenSecret, hashToken } from "./token-secret";

export const createTokenInput = z.object({
  name: z.string().trim().min(1).max(80),
  role: z.enum(["owner", "editor", "viewer"]).default("editor"),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
export type CreateTokenInput = z.input<typeof createTokenInput>;

export interface TokenInfo {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

const toInfo = (t: TokenInfo): TokenInfo => ({
  id: t.id, name: t.name, role: t.role, prefix: t.prefix, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt, expiresAt: t.expiresAt, revokedAt: t.revokedAt,
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
    });
    await recordAudit(principal, { teamId: team.id, action: "token.create", entityType: "api_token", entityId: t.id, details: { name: t.name, role: t.role } }, tx);
    return t;
  });
  return { ...toInfo(created), token: secret };
}

export async function listTokens(principal: Principal, slug: string): Promise<TokenInfo[]> {
  const { team } = await requireTeamRole(principal, slug, "owner");
  const rows = await prisma().apiToken.findMany({ where: { teamId: team.id }, orderBy: { createdAt: "desc" } });
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
