import { Prisma } from "@prisma/client";
import { z } from "zod";
import { recordAudit } from "@/lib/audit/record";
import { actorUserId, type Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";
import { operationsEnv } from "@/lib/env/operations";
import { AppError, notFound } from "@/lib/errors";
import { requireStreamAccess } from "@/lib/warehouse/access";
import { CONDITIONS } from "./conditions";
import { newWebhookSecret, validateWebhookUrl } from "./webhook";

/**
 * Alert rules and channels of a team (REST, CLI and the Alerts page call
 * these). Viewers read them; only editors (and owners) create or delete. A
 * rule watches one of the team's pipelines or a stream the team may read, so
 * a notification never carries another team's data.
 */
const name = z.string().trim().min(1).max(100).regex(/^[a-z0-9][a-z0-9_.-]*$/, "use lowercase letters, digits, '.', '_' and '-' (e.g. orders-lag)");

/** "90s", "5m", "2h", "1d" or a number of seconds. */
export const durationInput = z.union([
  z.number().int().min(0).max(7 * 86_400),
  z.string().trim().regex(/^\d+\s*[smhd]?$/, 'use a duration like "30s", "5m", "2h" or "1d"').transform((v, ctx) => {
    const m = /^(\d+)\s*([smhd]?)$/.exec(v)!;
    const s = Number(m[1]) * { "": 1, s: 1, m: 60, h: 3_600, d: 86_400 }[m[2] as "" | "s" | "m" | "h" | "d"];
    if (s > 7 * 86_400) ctx.addIssue({ code: "custom", message: "at most 7 days" });
    return s;
  }),
]);

export const channelInput = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("webhook"), name, url: z.string().min(1, "a webhook needs a URL") }),
  z.object({ kind: z.literal("email"), name, to: z.array(z.string().email("not an e-mail address")).min(1, "at least one address").max(20) }),
]);
export type ChannelInput = z.input<typeof channelInput>;

export const ruleInput = z
  .object({
    name,
    pipeline: z.string().min(1).optional(),
    stream: z.string().min(1).optional(),
    condition: z.enum(Object.keys(CONDITIONS) as [keyof typeof CONDITIONS, ...(keyof typeof CONDITIONS)[]]),
    threshold: z.number().min(0).max(1e12).optional(),
    for: durationInput.default(60),
    /** Channel names; the team's inbox always gets the rule's notifications. */
    channels: z.array(z.string()).max(10).default([]),
    enabled: z.boolean().default(true),
  })
  .superRefine((r, ctx) => {
    if (!!r.pipeline === !!r.stream) ctx.addIssue({ code: "custom", path: ["pipeline"], message: "give either a pipeline or a stream to watch" });
    const info = CONDITIONS[r.condition];
    const target = r.pipeline ? "pipeline" : "stream";
    if (!info.targets.includes(target)) ctx.addIssue({ code: "custom", path: ["condition"], message: `"${r.condition}" applies to ${info.targets.join(" or ")}s, not ${target}s` });
    if (r.condition === "error_rate" && r.threshold !== undefined && r.threshold > 100) ctx.addIssue({ code: "custom", path: ["threshold"], message: "a rate is at most 100 (%)" });
    if ((r.condition === "no_input" || r.condition === "reconciliation_mismatch" || r.condition === "task_failures") && r.for < 10) ctx.addIssue({ code: "custom", path: ["for"], message: "the window must be at least 10 s" });
  });
export type RuleInput = z.input<typeof ruleInput>;

export interface ChannelView {
  id: string;
  name: string;
  kind: "webhook" | "email";
  /** Webhook: scheme and host only (the rest may hold a token); e-mail: the addresses. */
  target: string;
  createdAt: Date;
}

const channelView = (c: { id: string; name: string; kind: "webhook" | "email"; target: string; createdAt: Date }): ChannelView => {
  let target = c.target;
  if (c.kind === "webhook") {
    try {
      const u = new URL(c.target);
      target = `${u.protocol}//${u.host}${u.pathname.length > 1 ? "/…" : "/"}`;
    } catch {
      target = "(invalid)";
    }
  }
  return { id: c.id, name: c.name, kind: c.kind, target, createdAt: c.createdAt };
};

const conflict = (e: unknown, what: string) => {
  if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002") return new AppError("conflict", `${what} already exists in this team: pick another name.`);
  return e;
};

/** Creates a channel. A webhook's signing secret is generated here and returned this once. */
export async function createChannel(principal: Principal, teamSlug: string, raw: ChannelInput): Promise<ChannelView & { secret?: string }> {
  const input = channelInput.parse(raw);
  const { team } = await requireTeamRole(principal, teamSlug, "editor");
  let target: string;
  let secret: string | undefined;
  if (input.kind === "webhook") {
    target = validateWebhookUrl(input.url, { allowPrivate: operationsEnv().SLUICE_WEBHOOK_ALLOW_PRIVATE });
    secret = newWebhookSecret();
  } else {
    if (!operationsEnv().SMTP_URL) throw new AppError("invalid_input", "E-mail channels need an SMTP server: an operator sets SMTP_URL (smtp://user:password@host:587) and SMTP_FROM. Use a webhook or the inbox meanwhile.", [{ path: ["kind"], message: "SMTP is not configured" }]);
    target = input.to.join(",");
  }
  try {
    const c = await prisma().$transaction(async (tx) => {
      const c = await tx.alertChannel.create({ data: { teamId: team.id, name: input.name, kind: input.kind, target, secret, createdById: actorUserId(principal) } });
      await recordAudit(principal, { teamId: team.id, action: "alert.channel.create", entityType: "alert_channel", entityId: c.id, details: { name: c.name, kind: c.kind } }, tx);
      return c;
    });
    return { ...channelView(c), ...(secret ? { secret } : {}) };
  } catch (e) {
    throw conflict(e, `A channel named "${input.name}"`);
  }
}

export async function listChannels(principal: Principal, teamSlug: string): Promise<ChannelView[]> {
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  return (await prisma().alertChannel.findMany({ where: { teamId: team.id }, orderBy: { name: "asc" } })).map(channelView);
}

export async function deleteChannel(principal: Principal, teamSlug: string, channel: string): Promise<void> {
  const { team } = await requireTeamRole(principal, teamSlug, "editor");
  const c = await prisma().alertChannel.findFirst({ where: { teamId: team.id, OR: [{ name: channel }, { id: channel }] } });
  if (!c) throw notFound(`Channel "${channel}"`);
  await prisma().$transaction(async (tx) => {
    await tx.alertChannel.delete({ where: { id: c.id } });
    await recordAudit(principal, { teamId: team.id, action: "alert.channel.delete", entityType: "alert_channel", entityId: c.id, details: { name: c.name } }, tx);
  });
}

export interface RuleView {
  id: string;
  name: string;
  target: { kind: "pipeline" | "stream"; name: string };
  condition: keyof typeof CONDITIONS;
  threshold: number;
  forSeconds: number;
  description: string;
  enabled: boolean;
  state: "ok" | "pending" | "firing";
  stateSince: Date | null;
  lastValue: number | null;
  lastEvaluatedAt: Date | null;
  channels: string[];
  createdAt: Date;
}

type RuleRow = Prisma.AlertRuleGetPayload<{ include: { pipeline: true; stream: true; channels: { include: { channel: true } } } }>;
const ruleInclude = { pipeline: true, stream: true, channels: { include: { channel: true } } } as const;

function ruleView(r: RuleRow): RuleView {
  return {
    id: r.id,
    name: r.name,
    target: r.pipeline ? { kind: "pipeline", name: r.pipeline.name } : { kind: "stream", name: r.stream?.name ?? "(deleted)" },
    condition: r.condition,
    threshold: r.threshold,
    forSeconds: r.forSeconds,
    description: CONDITIONS[r.condition].describe(r.threshold, r.forSeconds),
    enabled: r.enabled,
    state: r.state,
    stateSince: r.stateSince,
    lastValue: r.lastValue,
    lastEvaluatedAt: r.lastEvaluatedAt,
    channels: r.channels.map((c) => c.channel.name).sort(),
    createdAt: r.createdAt,
  };
}

export async function createRule(principal: Principal, teamSlug: string, raw: RuleInput): Promise<RuleView> {
  const input = ruleInput.parse(raw);
  const { team } = await requireTeamRole(principal, teamSlug, "editor");
  let pipelineId: string | undefined;
  let streamId: string | undefined;
  if (input.pipeline) {
    const p = await prisma().pipeline.findFirst({ where: { teamId: team.id, name: input.pipeline } });
    if (!p) throw new AppError("not_found", `Team "${team.slug}" has no pipeline "${input.pipeline}".`, [{ path: ["pipeline"], message: "no such pipeline" }]);
    pipelineId = p.id;
  } else {
    // Only a stream the team may read: its throughput is the team's business, another team's private stream is not.
    streamId = (await requireStreamAccess(team.id, input.stream!, "read")).stream.id;
  }
  const channels = input.channels.length ? await prisma().alertChannel.findMany({ where: { teamId: team.id, name: { in: input.channels } } }) : [];
  const missing = input.channels.filter((n) => !channels.some((c) => c.name === n));
  if (missing.length) throw new AppError("invalid_input", `No channel named ${missing.map((m) => `"${m}"`).join(", ")} in team "${team.slug}": create it first.`, [{ path: ["channels"], message: "unknown channel" }]);
  const threshold = input.threshold ?? CONDITIONS[input.condition].threshold?.default ?? 0;
  try {
    const r = await prisma().$transaction(async (tx) => {
      const r = await tx.alertRule.create({
        data: {
          teamId: team.id, name: input.name, pipelineId, streamId, condition: input.condition, threshold, forSeconds: input.for, enabled: input.enabled, createdById: actorUserId(principal),
          channels: { create: channels.map((c) => ({ channelId: c.id })) },
        },
        include: ruleInclude,
      });
      await recordAudit(principal, { teamId: team.id, action: "alert.rule.create", entityType: "alert_rule", entityId: r.id, details: { name: r.name, condition: r.condition, threshold, forSeconds: input.for } }, tx);
      return r;
    });
    return ruleView(r);
  } catch (e) {
    throw conflict(e, `A rule named "${input.name}"`);
  }
}

export async function listRules(principal: Principal, teamSlug: string, filter: { pipeline?: string } = {}): Promise<RuleView[]> {
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const rows = await prisma().alertRule.findMany({ where: { teamId: team.id, ...(filter.pipeline ? { pipeline: { name: filter.pipeline } } : {}) }, include: ruleInclude, orderBy: { name: "asc" } });
  return rows.map(ruleView);
}

export async function deleteRule(principal: Principal, teamSlug: string, rule: string): Promise<void> {
  const { team } = await requireTeamRole(principal, teamSlug, "editor");
  const r = await prisma().alertRule.findFirst({ where: { teamId: team.id, OR: [{ name: rule }, { id: rule }] } });
  if (!r) throw notFound(`Alert rule "${rule}"`);
  await prisma().$transaction(async (tx) => {
    await tx.alertRule.delete({ where: { id: r.id } });
    await recordAudit(principal, { teamId: team.id, action: "alert.rule.delete", entityType: "alert_rule", entityId: r.id, details: { name: r.name } }, tx);
  });
}
