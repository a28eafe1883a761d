import { Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import nodemailer, { type Transporter } from "nodemailer";
import type { Prisma } from "@prisma/client";
import { prisma } from "@/lib/db/prisma";
import { operationsEnv } from "@/lib/env/operations";
import { moduleLogger } from "@/lib/log/logger";
import { deliverAlertPayload, jobNames, QUEUE_PREFIX, queues } from "@/lib/queue/contracts";
import { createQueue } from "@/lib/queue/producer";
import { bullmqRedisOptions, createRedis } from "@/lib/redis/client";
import { CONDITIONS } from "./conditions";
import { postWebhook, redactUrl } from "./webhook";

const log = moduleLogger("alert-deliveries");

/**
 * Notifications to webhook and e-mail channels: one AlertDelivery row per
 * (event, channel), written in the same transaction as the rule's transition,
 * and one BullMQ job per row (job id = row id, so a repeated enqueue is
 * dropped). Any worker delivers; failures retry with exponential backoff
 * (2 s, 4 s, … 6 attempts over ~1 min) and every attempt is logged on the row.
 */
export const DELIVERY_ATTEMPTS = 6;
export const DELIVERY_BACKOFF_MS = 2_000;

const g = globalThis as unknown as { sluiceDeliveryQueue?: Queue; sluiceMailer?: Transporter };

export function deliveryQueue(): Queue {
  g.sluiceDeliveryQueue ??= createQueue(queues.alertDeliveries);
  return g.sluiceDeliveryQueue;
}

export async function closeDeliveryQueue(): Promise<void> {
  await g.sluiceDeliveryQueue?.close();
  g.sluiceDeliveryQueue = undefined;
  g.sluiceMailer?.close();
  g.sluiceMailer = undefined;
}

export async function enqueueDeliveries(ids: string[]): Promise<void> {
  if (!ids.length) return;
  await deliveryQueue().addBulk(
    ids.map((deliveryId) => ({
      name: jobNames.deliverAlert,
      data: deliverAlertPayload.parse({ deliveryId }),
      opts: { jobId: deliveryId, attempts: DELIVERY_ATTEMPTS, backoff: { type: "exponential", delay: DELIVERY_BACKOFF_MS }, removeOnComplete: { age: 86_400, count: 10_000 }, removeOnFail: { age: 7 * 86_400 } },
    })),
  );
}

type DeliveryRow = Prisma.AlertDeliveryGetPayload<{ include: { channel: true; event: { include: { team: true; rule: { include: { pipeline: true; stream: true } } } } } }>;

/** The JSON body of a webhook (documented in docs/operations.md). Only the rule's own target: nothing of another team. */
export function alertPayload(d: DeliveryRow, baseUrl: string) {
  const { event } = d;
  const { rule, team } = event;
  const target = rule.pipeline ? { kind: "pipeline" as const, name: rule.pipeline.name } : { kind: "stream" as const, name: rule.stream?.name ?? null };
  const link = rule.pipeline ? `${baseUrl}/t/${team.slug}/pipelines/${encodeURIComponent(rule.pipeline.name)}/monitor` : `${baseUrl}/t/${team.slug}/alerts`;
  return {
    id: event.id,
    type: `alert.${event.kind}`,
    state: event.kind,
    team: team.slug,
    rule: { id: rule.id, name: rule.name, condition: rule.condition, threshold: rule.threshold, forSeconds: rule.forSeconds, description: CONDITIONS[rule.condition].describe(rule.threshold, rule.forSeconds) },
    target,
    value: event.value,
    message: event.message,
    at: event.createdAt.toISOString(),
    url: link,
  };
}

function mailer(): Transporter {
  const url = operationsEnv().SMTP_URL;
  if (!url) throw new UnrecoverableError("SMTP_URL is not set: e-mail channels cannot send (an operator sets SMTP_URL and SMTP_FROM).");
  g.sluiceMailer ??= nodemailer.createTransport(url);
  return g.sluiceMailer;
}

interface AttemptLog {
  at: string;
  ok: boolean;
  status?: number;
  error?: string;
  ms: number;
}

async function deliver(job: Job): Promise<void> {
  const { deliveryId } = deliverAlertPayload.parse(job.data);
  const d = await prisma().alertDelivery.findUnique({ where: { id: deliveryId }, include: { channel: true, event: { include: { team: true, rule: { include: { pipeline: true, stream: true } } } } } });
  if (!d || d.status === "delivered") return; // deleted with its rule/channel, or already done
  const started = performance.now();
  const payload = alertPayload(d, (process.env.SLUICE_URL ?? "http://localhost:3000").replace(/\/$/, ""));
  const body = JSON.stringify(payload);
  const attempt: AttemptLog = { at: new Date().toISOString(), ok: false, ms: 0 };
  try {
    if (d.channel.kind === "webhook") {
      const r = await postWebhook(d.channel.target, body, {
        secret: d.channel.secret ?? "",
        allowPrivate: operationsEnv().SLUICE_WEBHOOK_ALLOW_PRIVATE,
        headers: { "x-sluice-delivery": d.id, "x-sluice-event": payload.type },
      });
      attempt.status = r.status;
    } else {
      const subject = `[Sluice] ${payload.state === "firing" ? "FIRING" : "resolved"}: ${payload.rule.name} (${payload.target.kind} ${payload.target.name})`;
      await mailer().sendMail({
        from: operationsEnv().SMTP_FROM,
        to: d.channel.target.split(","),
        subject,
        text: `${payload.message}\n\nRule: ${payload.rule.name} — ${payload.rule.description}\nTeam: ${payload.team}\nAt: ${payload.at}\n\n${payload.url}\n`,
        headers: { "X-Sluice-Delivery": d.id },
      });
    }
    attempt.ok = true;
    attempt.ms = Math.round(performance.now() - started);
    await prisma().alertDelivery.update({
      where: { id: d.id },
      data: { status: "delivered", attempts: { increment: 1 }, deliveredAt: new Date(), responseStatus: attempt.status ?? null, lastError: null, log: [...(d.log as unknown as AttemptLog[]), attempt] as unknown as Prisma.InputJsonValue },
    });
  } catch (e) {
    attempt.error = e instanceof Error ? e.message : String(e);
    attempt.status = (e as { status?: number }).status;
    attempt.ms = Math.round(performance.now() - started);
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1) || e instanceof UnrecoverableError;
    await prisma().alertDelivery.update({
      where: { id: d.id },
      data: { status: last ? "failed" : "pending", attempts: { increment: 1 }, lastError: attempt.error, responseStatus: attempt.status ?? null, log: [...(d.log as unknown as AttemptLog[]), attempt] as unknown as Prisma.InputJsonValue },
    });
    log.warn({ delivery: d.id, channel: d.channel.kind === "webhook" ? redactUrl(d.channel.target) : "email", attempt: job.attemptsMade + 1, err: attempt.error }, last ? "alert delivery failed for good" : "alert delivery failed; will retry");
    throw e;
  }
}

/** Delivers alert notifications (every worker runs one; deliveries are short). */
export function startDeliveryProcessor(opts: { concurrency?: number } = {}): { close(): Promise<void> } {
  const worker = new Worker(queues.alertDeliveries, deliver, { connection: createRedis(bullmqRedisOptions), prefix: QUEUE_PREFIX, concurrency: opts.concurrency ?? 8 });
  worker.on("error", (err) => log.error({ err }, "alert delivery worker error"));
  return { close: () => worker.close() };
}
