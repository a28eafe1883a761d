import { z } from "zod";
import { recordAudit } from "@/lib/audit/record";
import { actorUserId, type Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";
import { AppError, notFound } from "@/lib/errors";
import { requireStreamAccess } from "./access";

export const accessRequestInput = z.object({ reason: z.string().trim().min(5, "say why your team needs this stream").max(2_000) });
export const decisionInput = z.object({ note: z.string().trim().max(2_000).default("") });

export interface GrantView {
  id: string;
  stream: string;
  team: { slug: string; name: string };
  status: string;
  reason: string;
  note: string;
  createdAt: Date;
  decidedAt: Date | null;
}

type GrantRow = { id: string; status: string; reason: string; note: string; createdAt: Date; decidedAt: Date | null; stream: { name: string }; team: { slug: string; name: string } };
const view = (g: GrantRow): GrantView => ({ id: g.id, stream: g.stream.name, team: { slug: g.team.slug, name: g.team.name }, status: g.status, reason: g.reason, note: g.note, createdAt: g.createdAt, decidedAt: g.decidedAt });

/**
 * A team asks the owner team of a stream for read access, with a reason. The
 * stream must be listed for the team (visibility `team`, or an earlier grant);
 * a public stream needs no request, a private one cannot be found.
 */
export async function requestAccess(principal: Principal, teamSlug: string, streamName: string, raw: z.input<typeof accessRequestInput>): Promise<GrantView> {
  const input = accessRequestInput.parse(raw);
  const { team } = await requireTeamRole(principal, teamSlug, "editor");
  const { stream, access } = await requireStreamAccess(team.id, streamName, "see");
  if (access === "owner") throw new AppError("conflict", `Your team owns "${streamName}".`);
  if (access === "read") throw new AppError("conflict", `Your team can already read "${streamName}".`);
  const g = await prisma().$transaction(async (tx) => {
    const g = await tx.streamGrant.upsert({
      where: { streamId_teamId: { streamId: stream.id, teamId: team.id } },
      create: { streamId: stream.id, teamId: team.id, status: "requested", reason: input.reason, requestedById: actorUserId(principal) },
      update: { status: "requested", reason: input.reason, note: "", requestedById: actorUserId(principal), decidedById: null, decidedAt: null, createdAt: new Date() },
      include: { stream: true, team: true },
    });
    await recordAudit(principal, { teamId: team.id, action: "grant.request", entityType: "stream_grant", entityId: g.id, details: { stream: streamName, reason: input.reason } }, tx);
    await recordAudit(principal, { teamId: stream.ownerTeamId, action: "grant.request", entityType: "stream_grant", entityId: g.id, details: { stream: streamName, team: team.slug } }, tx);
    return g;
  });
  return view(g);
}

/**
 * Requests and grants on the team's own streams. Owners see and decide them:
 * a request's reason is written for the people who decide it.
 */
export async function listIncoming(principal: Principal, ownerSlug: string, status?: "requested" | "approved" | "rejected" | "revoked"): Promise<GrantView[]> {
  const { team } = await requireTeamRole(principal, ownerSlug, "owner");
  const rows = await prisma().streamGrant.findMany({
    where: { stream: { ownerTeamId: team.id }, ...(status ? { status } : {}) },
    include: { stream: true, team: true },
    orderBy: { createdAt: "desc" },
  });
  return rows.map(view);
}

/** The team's own requests and grants on other teams' streams. */
export async function listOutgoing(principal: Principal, teamSlug: string): Promise<GrantView[]> {
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const rows = await prisma().streamGrant.findMany({ where: { teamId: team.id }, include: { stream: true, team: true }, orderBy: { createdAt: "desc" } });
  return rows.map(view);
}

async function decide(principal: Principal, ownerSlug: string, grantId: string, to: "approved" | "rejected" | "revoked", note: string): Promise<GrantView> {
  const { team } = await requireTeamRole(principal, ownerSlug, "owner");
  const grant = await prisma().streamGrant.findFirst({ where: { id: grantId, stream: { ownerTeamId: team.id } }, include: { stream: true, team: true } });
  if (!grant) throw notFound("That access request");
  const allowed: Record<typeof to, string[]> = { approved: ["requested", "rejected"], rejected: ["requested"], revoked: ["approved"] };
  if (!allowed[to].includes(grant.status)) throw new AppError("conflict", `This request is ${grant.status}; it cannot be ${to}.`);
  const g = await prisma().$transaction(async (tx) => {
    const g = await tx.streamGrant.update({ where: { id: grant.id }, data: { status: to, note, decidedById: actorUserId(principal), decidedAt: new Date() }, include: { stream: true, team: true } });
    const action = to === "approved" ? "grant.approve" : to === "rejected" ? "grant.reject" : "grant.revoke";
    for (const teamId of [team.id, grant.teamId]) {
      await recordAudit(principal, { teamId, action, entityType: "stream_grant", entityId: g.id, details: { stream: grant.stream.name, team: grant.team.slug, note } }, tx);
    }
    return g;
  });
  return view(g);
}

export const approveAccess = (p: Principal, owner: string, id: string, note = "") => decide(p, owner, id, "approved", note);
export const rejectAccess = (p: Principal, owner: string, id: string, note = "") => decide(p, owner, id, "rejected", note);
/** Revoking stops the grantee's running pipelines on that stream (their tasks re-check access). */
export const revokeAccess = (p: Principal, owner: string, id: string, note = "") => decide(p, owner, id, "revoked", note);
