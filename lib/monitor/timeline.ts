import { prisma } from "@/lib/db/prisma";

/** A marker on every monitor chart: something an operator did or the runtime did to the deployment. */
export interface TimelineEvent {
  /** Epoch ms. */
  at: number;
  kind: "deploy" | "redeploy" | "scale" | "resume" | "stop" | "failed" | "restart";
  message: string;
  taskIndex?: number;
}

interface AuditDetails {
  version?: number;
  parallelism?: number;
  deliveryGuarantee?: string;
}

/**
 * Deploys, redeploys, scales, stops and resumes of a deployment from the audit
 * log, and its tasks' failures and restarts (task_events), in [fromMs, toMs). What kind a redeploy was (a new version, a new
 * parallelism, or a resume after a stop) is read off the entry before it, so
 * one earlier entry is loaded too.
 */
export async function deploymentTimeline(deploymentId: string, fromMs: number, toMs: number): Promise<TimelineEvent[]> {
  const [before, rows] = await Promise.all([
    prisma().auditLog.findFirst({ where: { entityType: "deployment", entityId: deploymentId, createdAt: { lt: new Date(fromMs) } }, orderBy: { createdAt: "desc" } }),
    prisma().auditLog.findMany({ where: { entityType: "deployment", entityId: deploymentId, createdAt: { gte: new Date(fromMs), lt: new Date(toMs) } }, orderBy: { createdAt: "asc" }, take: 1_000 }),
  ]);
  const out: TimelineEvent[] = [];
  let prev: { action: string; details: AuditDetails } | undefined = before ? { action: before.action, details: (before.details ?? {}) as AuditDetails } : undefined;
  for (const r of rows) {
    const d = (r.details ?? {}) as AuditDetails;
    const at = r.createdAt.getTime();
    if (r.action === "pipeline.stop") out.push({ at, kind: "stop", message: "stopped" });
    else if (r.action === "pipeline.deploy") out.push({ at, kind: "deploy", message: `deployed v${d.version} × ${d.parallelism} (${d.deliveryGuarantee})` });
    else if (r.action === "pipeline.redeploy") {
      if (prev?.action === "pipeline.stop") out.push({ at, kind: "resume", message: `resumed v${d.version} × ${d.parallelism}` });
      else if (prev && prev.details.version === d.version && prev.details.parallelism !== d.parallelism) out.push({ at, kind: "scale", message: `scaled to ${d.parallelism} task(s)` });
      else out.push({ at, kind: "redeploy", message: `redeployed v${d.version} × ${d.parallelism}` });
    } else continue;
    prev = { action: r.action, details: r.action === "pipeline.stop" ? { ...prev?.details } : d };
  }
  const tasks = await prisma().taskEvent.findMany({ where: { deploymentId, createdAt: { gte: new Date(fromMs), lt: new Date(toMs) } }, orderBy: { createdAt: "asc" }, take: 1_000 });
  for (const e of tasks) {
    out.push(
      e.kind === "gave_up"
        ? { at: e.createdAt.getTime(), kind: "failed", taskIndex: e.taskIndex, message: `task ${e.taskIndex} failed; the deployment stopped: ${e.message}` }
        : { at: e.createdAt.getTime(), kind: "restart", taskIndex: e.taskIndex, message: `task ${e.taskIndex} failed (${e.attempt}× in the restart window), restarting in ${Math.round((e.backoffMs ?? 0) / 1000)} s: ${e.message}` },
    );
  }
  return out.sort((a, b) => a.at - b.at);
}
