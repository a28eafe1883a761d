import type { Role, Team } from "@prisma/client";
import { prisma } from "@/lib/db/prisma";
import { AppError } from "@/lib/errors";
import type { Principal } from "./principal";
import { roleAtLeast } from "./roles";

export interface TeamAccess {
  team: Team;
  role: Role;
}

/**
 * Resolves the caller's role in a team (by slug) and checks it is at least
 * `needed`. A team that does not exist and a team the caller is not in answer
 * the same 403, so team names cannot be probed.
 */
export async function requireTeamRole(principal: Principal, teamSlug: string, needed: Role): Promise<TeamAccess> {
  const team = await prisma().team.findUnique({ where: { slug: teamSlug } });
  let role: Role | undefined;
  if (team) {
    if (principal.kind === "token") {
      if (principal.teamId === team.id) role = principal.role;
    } else {
      const m = await prisma().membership.findUnique({ where: { userId_teamId: { userId: principal.userId, teamId: team.id } } });
      role = m?.role;
    }
  }
  if (!team || !role) throw new AppError("forbidden", `You are not a member of team "${teamSlug}".`);
  if (!roleAtLeast(role, needed)) {
    throw new AppError("forbidden", `This needs the ${needed} role in team "${team.slug}"; you are ${role === "editor" ? "an" : "a"} ${role}.`);
  }
  return { team, role };
}

/** Actions that only a signed-in person may take (not an automation token). */
export function requireUser(principal: Principal): Extract<Principal, { kind: "user" }> {
  if (principal.kind !== "user") throw new AppError("forbidden", "This action needs a signed-in user, not an API token.");
  return principal;
}
