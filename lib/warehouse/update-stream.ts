import { z } from "zod";
import { recordAudit } from "@/lib/audit/record";
import type { Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";
import { requireStreamAccess } from "./access";
import { createStreamInput } from "./schemas";
import { streamView, type StreamView } from "./streams";

/** What can change on a stream's catalog entry after creation (name, layer and partitions cannot: they are its topic). */
export const updateStreamInput = z.object({ description: createStreamInput.shape.description.unwrap() });
export type UpdateStreamInput = z.input<typeof updateStreamInput>;

/** Changes the stream's markdown description (owner team editors); audited with the old length, not the text. */
export async function updateStream(principal: Principal, teamSlug: string, name: string, raw: UpdateStreamInput): Promise<StreamView> {
  const input = updateStreamInput.parse(raw);
  const { team } = await requireTeamRole(principal, teamSlug, "editor");
  const { stream } = await requireStreamAccess(team.id, name, "owner");
  const updated = await prisma().$transaction(async (tx) => {
    const s = await tx.stream.update({
      where: { id: stream.id },
      data: { description: input.description },
      include: { ownerTeam: true, schemas: { orderBy: { version: "desc" }, take: 1 }, grants: { where: { teamId: team.id } } },
    });
    await recordAudit(principal, { teamId: team.id, action: "stream.update", entityType: "stream", entityId: stream.id, details: { name, fields: ["description"] } }, tx);
    return s;
  });
  return streamView(updated, "owner");
}
