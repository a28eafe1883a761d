import type { Prisma } from "@prisma/client";
import type { Principal } from "@/lib/auth/principal";
import { prisma } from "@/lib/db/prisma";

type Db = Pick<Prisma.TransactionClient, "auditLog">;

export interface AuditEntry {
  teamId: string | null;
  action: string;
  entityType: string;
  entityId: string;
  details?: Prisma.InputJsonValue;
}

/** Appends to the audit log; pass the transaction client so the entry commits with the change. */
export async function recordAudit(principal: Principal | null, entry: AuditEntry, db: Db = prisma()): Promise<void> {
  await db.auditLog.create({
    data: {
      teamId: entry.teamId,
      actorUserId: principal?.kind === "user" ? principal.userId : principal?.createdById ?? null,
      actorTokenId: principal?.kind === "token" ? principal.tokenId : null,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId,
      details: entry.details ?? {},
    },
  });
}
