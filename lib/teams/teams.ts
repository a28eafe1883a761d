import type { Role } from "@prisma/client";
import { Prisma } from "@prisma/client";
import { recordAudit } from "@/lib/audit/record";
import type { Principal } from "@/lib/auth/principal";
import { requireTeamRole, requireUser } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";
import { AppError } from "@/lib/errors";
import { type CreateTeamInput, slugify } from "./schemas";

export interface TeamSummary {
  id: string;
  slug: string;
  name: string;
  role: Role;
}

/** Creates a team; the signed-in user who creates it becomes its owner. */
export async function createTeam(principal: Principal, input: CreateTeamInput): Promise<TeamSummary> {
  const user = requireUser(principal);
  const slug = input.slug ?? slugify(input.name);
  if (slug.length < 2) throw new AppError("invalid_input", "Choose a team name with at least two letters or digits.", [{ path: ["name"], message: "too short to make a slug" }]);
  try {
    const team = await prisma().$transaction(async (tx) => {
      const team = await tx.team.create({
        data: { slug, name: input.name, memberships: { create: { userId: user.userId, role: "owner" } } },
      });
      await recordAudit(principal, { teamId: team.id, action: "team.create", entityType: "team", entityId: team.id, details: { slug, name: input.name } }, tx);
      return team;
    });
    return { id: team.id, slug: team.slug, name: team.name, role: "owner" };
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") {
      throw new AppError("conflict", `A team with the slug "${slug}" already exists: choose another name or slug.`);
    }
    throw e;
  }
}

/** Teams the caller belongs to (a token sees only its own team). */
export async function listTeams(principal: Principal): Promise<TeamSummary[]> {
  if (principal.kind === "token") {
    const team = await prisma().team.findUniqueOrThrow({ where: { id: principal.teamId } });
    return [{ id: team.id, slug: team.slug, name: team.name, role: principal.role }];
  }
  const memberships = await prisma().membership.findMany({
    where: { userId: principal.userId },
    include: { team: true },
    orderBy: { team: { name: "asc" } },
  });
  return memberships.map((m) => ({ id: m.team.id, slug: m.team.slug, name: m.team.name, role: m.role }));
}

export async function getTeam(principal: Principal, slug: string): Promise<TeamSummary> {
  const { team, role } = await requireTeamRole(principal, slug, "viewer");
  return { id: team.id, slug: team.slug, name: team.name, role };
}
