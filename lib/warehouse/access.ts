import type { Stream, StreamGrant, StreamSchema as StreamSchemaRow, Team } from "@prisma/client";
import { prisma } from "@/lib/db/prisma";
import { AppError } from "@/lib/errors";

export type StreamAccess = "owner" | "read" | "see";

export type StreamWithRelations = Stream & { ownerTeam: Team; schemas: StreamSchemaRow[]; grants: StreamGrant[] };

/**
 * What a team may do with a stream: its owner team does everything; a public
 * stream or an approved grant allows reading; a `team`-visible stream is listed
 * in every team's catalog (so it can be requested) but not readable. A private
 * stream does not exist for other teams — not even its name.
 */
export function accessOf(stream: Pick<Stream, "ownerTeamId" | "visibility"> & { grants: Pick<StreamGrant, "teamId" | "status">[] }, teamId: string): StreamAccess | undefined {
  if (stream.ownerTeamId === teamId) return "owner";
  const grant = stream.grants.find((g) => g.teamId === teamId);
  if (stream.visibility === "public" || grant?.status === "approved") return "read";
  if (stream.visibility === "team" || grant) return "see";
  return undefined;
}

const rank: Record<StreamAccess, number> = { see: 0, read: 1, owner: 2 };

/** Loads a stream the team may act on, or throws: 404 when it may not even see it, 403 when it may see but not do. */
export async function requireStreamAccess(teamId: string, name: string, needed: StreamAccess): Promise<{ stream: StreamWithRelations; access: StreamAccess }> {
  const stream = await prisma().stream.findUnique({
    where: { name },
    include: { ownerTeam: true, schemas: { orderBy: { version: "desc" }, take: 1 }, grants: { where: { teamId } } },
  });
  const access = stream ? accessOf(stream, teamId) : undefined;
  if (!stream || !access) throw new AppError("not_found", `Stream "${name}" was not found.`);
  if (rank[access] < rank[needed]) {
    throw new AppError(
      "forbidden",
      needed === "owner"
        ? `Only team "${stream.ownerTeam.slug}", which owns "${name}", can change it or write to it.`
        : `Your team has no read access to "${name}": request access from its owner team "${stream.ownerTeam.slug}".`,
    );
  }
  return { stream, access };
}
