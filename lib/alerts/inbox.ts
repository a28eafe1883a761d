import type { Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";

/**
 * The in-app inbox: every firing and resolution of the team's rules, newest
 * first. Each user has a cursor per team; the sidebar badge counts the
 * notifications after it, and opening the inbox moves it. History (with
 * pending transitions) and the delivery log are read here too.
 */
export interface InboxItem {
  id: string;
  kind: "pending" | "firing" | "resolved";
  rule: { id: string; name: string };
  target: { kind: "pipeline" | "stream"; name: string | null };
  value: number | null;
  message: string;
  at: Date;
  unread: boolean;
}

const eventInclude = { rule: { select: { id: true, name: true, pipeline: { select: { name: true } }, stream: { select: { name: true } } } } } as const;

type EventRow = { id: string; kind: "pending" | "firing" | "resolved"; value: number | null; message: string; createdAt: Date; rule: { id: string; name: string; pipeline: { name: string } | null; stream: { name: string } | null } };

const item = (e: EventRow, seenAt: Date | null): InboxItem => ({
  id: e.id,
  kind: e.kind,
  rule: { id: e.rule.id, name: e.rule.name },
  target: e.rule.pipeline ? { kind: "pipeline", name: e.rule.pipeline.name } : { kind: "stream", name: e.rule.stream?.name ?? null },
  value: e.value,
  message: e.message,
  at: e.createdAt,
  unread: seenAt === null || e.createdAt > seenAt,
});

async function cursorOf(principal: Principal, teamId: string): Promise<Date | null> {
  if (principal.kind !== "user") return null;
  return (await prisma().inboxCursor.findUnique({ where: { userId_teamId: { userId: principal.userId, teamId } } }))?.seenAt ?? null;
}

/** Unread notifications (firing and resolved events after the user's cursor): the sidebar badge. */
export async function unreadCount(principal: Principal, teamId: string): Promise<number> {
  if (principal.kind !== "user") return 0;
  const seenAt = await cursorOf(principal, teamId);
  return prisma().alertEvent.count({ where: { teamId, kind: { in: ["firing", "resolved"] }, ...(seenAt ? { createdAt: { gt: seenAt } } : {}) } });
}

export async function listInbox(principal: Principal, teamSlug: string, opts: { limit?: number } = {}) {
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const [seenAt, events, firing] = await Promise.all([
    cursorOf(principal, team.id),
    prisma().alertEvent.findMany({ where: { teamId: team.id, kind: { in: ["firing", "resolved"] } }, include: eventInclude, orderBy: { createdAt: "desc" }, take: Math.min(opts.limit ?? 100, 500) }),
    prisma().alertRule.count({ where: { teamId: team.id, state: "firing" } }),
  ]);
  const items = events.map((e) => item(e, seenAt));
  return { unread: principal.kind === "user" ? await unreadCount(principal, team.id) : 0, firing, items };
}

/** Marks everything up to now as read for this user. */
export async function markInboxSeen(principal: Principal, teamSlug: string): Promise<{ unread: number }> {
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  if (principal.kind !== "user") return { unread: 0 };
  const seenAt = new Date();
  await prisma().inboxCursor.upsert({ where: { userId_teamId: { userId: principal.userId, teamId: team.id } }, create: { userId: principal.userId, teamId: team.id, seenAt }, update: { seenAt } });
  return { unread: 0 };
}

/** Every transition of the team's rules (or one rule's), with what became of each notification. */
export async function alertHistory(principal: Principal, teamSlug: string, opts: { rule?: string; limit?: number } = {}) {
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const events = await prisma().alertEvent.findMany({
    where: { teamId: team.id, ...(opts.rule ? { rule: { OR: [{ name: opts.rule }, { id: opts.rule }] } } : {}) },
    include: { ...eventInclude, deliveries: { select: { status: true, attempts: true, channel: { select: { name: true } } } } },
    orderBy: { createdAt: "desc" },
    take: Math.min(opts.limit ?? 100, 1_000),
  });
  return events.map((e) => ({ ...item(e, null), unread: undefined, deliveries: e.deliveries.map((d) => ({ channel: d.channel.name, status: d.status, attempts: d.attempts })) }));
}

/** The delivery log: every notification to a webhook or e-mail channel and each of its attempts. */
export async function deliveryLog(principal: Principal, teamSlug: string, opts: { limit?: number } = {}) {
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const rows = await prisma().alertDelivery.findMany({
    where: { event: { teamId: team.id } },
    include: { channel: { select: { name: true, kind: true } }, event: { select: { kind: true, createdAt: true, rule: { select: { name: true } } } } },
    orderBy: { createdAt: "desc" },
    take: Math.min(opts.limit ?? 100, 1_000),
  });
  return rows.map((d) => ({
    id: d.id,
    channel: d.channel.name,
    channelKind: d.channel.kind,
    rule: d.event.rule.name,
    event: d.event.kind,
    status: d.status,
    attempts: d.attempts,
    responseStatus: d.responseStatus,
    lastError: d.lastError,
    deliveredAt: d.deliveredAt,
    createdAt: d.createdAt,
    log: d.log,
  }));
}
