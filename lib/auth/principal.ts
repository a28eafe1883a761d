import type { Role } from "@prisma/client";
import { prisma } from "@/lib/db/prisma";
import { AppError } from "@/lib/errors";
import { hashToken, TOKEN_PREFIX } from "@/lib/tokens/token-secret";
import { roleAtLeast } from "./roles";

/** Who is calling: a signed-in user (session cookie) or a team API token (Bearer). */
export type Principal =
  | { kind: "user"; userId: string; email: string; name: string }
  | { kind: "token"; tokenId: string; teamId: string; role: Role; createdById: string | null };

const LAST_USED_RESOLUTION_MS = 60_000;

async function principalFromToken(secret: string): Promise<Principal> {
  const token = await prisma().apiToken.findUnique({ where: { tokenHash: hashToken(secret) }, include: { createdBy: { select: { memberships: { select: { teamId: true, role: true } } } } } });
  if (!token || token.revokedAt || (token.expiresAt && token.expiresAt < new Date())) {
    throw new AppError("unauthenticated", "The API token is invalid, expired or revoked. Create a new one with `sluice token create --team <team>`.");
  }
  // A token acts with its creator's standing: it stops when they leave the team or hold a lower role than
  // the token's. Those changes revoke it at once (lib/teams/members.ts); this also covers a deleted account.
  const standing = token.createdBy?.memberships.find((m) => m.teamId === token.teamId)?.role;
  if (!standing || !roleAtLeast(standing, token.role)) {
    throw new AppError("unauthenticated", `The API token is suspended: the person who created it is no longer ${token.role === "viewer" ? "a member" : `an ${token.role}`} of the team. Ask a team owner for a new token.`);
  }
  // Write lastUsedAt at most once a minute: a busy automation must not turn every request into a write.
  if (!token.lastUsedAt || Date.now() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await prisma().apiToken.update({ where: { id: token.id }, data: { lastUsedAt: new Date() } });
  }
  return { kind: "token", tokenId: token.id, teamId: token.teamId, role: token.role, createdById: token.createdById };
}

/** Resolves the caller or throws `unauthenticated` (401). */
export async function authenticate(headers: Headers): Promise<Principal> {
  const authorization = headers.get("authorization");
  if (authorization) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match || !match[1].startsWith(TOKEN_PREFIX)) {
      throw new AppError("unauthenticated", "Malformed Authorization header: expected `Bearer slc_…`.");
    }
    return principalFromToken(match[1]);
  }
  // Imported here, not at the top: better-auth is the slowest module to load, and the
  // CLI and workers use this module (actorUserId, token principals) without sessions.
  const { auth } = await import("./better-auth");
  const session = await auth().api.getSession({ headers });
  if (!session) throw new AppError("unauthenticated", "Sign in, or send an API token as `Authorization: Bearer <token>`.");
  return { kind: "user", userId: session.user.id, email: session.user.email, name: session.user.name };
}

/**
 * The same caller, checked again (a long-lived stream asks every few seconds):
 * a token must still be valid — not revoked, not expired — and a user must
 * still exist. Sessions are checked by authenticating the request's headers
 * again instead (a signed-out session ends its streams too).
 */
export async function refreshPrincipal(p: Principal): Promise<Principal> {
  if (p.kind === "token") {
    const token = await prisma().apiToken.findUnique({ where: { id: p.tokenId } });
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt < new Date())) {
      throw new AppError("unauthenticated", "The API token was revoked or has expired. Create a new one with `sluice token create --team <team>`.");
    }
    return { kind: "token", tokenId: token.id, teamId: token.teamId, role: token.role, createdById: token.createdById };
  }
  const user = await prisma().user.findUnique({ where: { id: p.userId } });
  if (!user) throw new AppError("unauthenticated", "This account no longer exists.");
  return p;
}

/** The user id to record as author/actor, when there is one. */
export function actorUserId(p: Principal): string | null {
  return p.kind === "user" ? p.userId : p.createdById;
}
