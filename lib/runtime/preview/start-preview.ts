import { randomUUID } from "node:crypto";
import { Job, Queue } from "bullmq";
import { z } from "zod";
import { acquireLiveSlot, guardLive } from "@/lib/auth/live-access";
import { refreshPrincipal, type Principal } from "@/lib/auth/principal";
import { liveLimits } from "@/lib/env/live";
import { requireStreamAccess } from "@/lib/warehouse/access";
import { requireTeamRole } from "@/lib/auth/team-access";
import { AppError } from "@/lib/errors";
import { PARTIAL_GRAPH_CODES } from "@/lib/compiler";
import { checkPipeline } from "@/lib/pipelines/pipelines";
import { jobNames, queues, redisKeys, runPreviewPayload } from "@/lib/queue/contracts";
import { createQueue } from "@/lib/queue/producer";
import { createRedis, redis } from "@/lib/redis/client";
import { PREVIEW_STALLED_MESSAGE, type PreviewEvent } from "./events";

/** What the browser sends: the job's options (same limits and defaults) plus the graph. */
export const previewInput = runPreviewPayload.pick({ targetNodeId: true, mode: true, limit: true, seconds: true }).extend({ pipeline: z.unknown() });
export type PreviewInput = z.input<typeof previewInput>;

const g = globalThis as unknown as { sluicePreviewQueue?: Queue };
const previewQueue = () => (g.sluicePreviewQueue ??= createQueue(queues.previews));

/**
 * Validates first (422 with node diagnostics, before any job) and takes one of
 * the caller's preview slots (429 when all are in use), then returns a
 * function that runs the preview on a worker and yields its events until it
 * is done, fails, or the caller aborts (the browser went away). While it runs,
 * the caller's access to the team and to every Source stream is re-checked
 * every few seconds; when it is gone the preview stops with that error
 * (lib/auth/live-access.ts). `reauthenticate` re-reads the caller from the
 * request (sessions); by default the principal itself is checked again.
 */
export async function preparePreview(principal: Principal, teamSlug: string, raw: PreviewInput, opts: { reauthenticate?: () => Promise<Principal> } = {}) {
  const input = previewInput.parse(raw);
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const checked = await checkPipeline(team.id, input.pipeline);
  // An unfinished graph (no Sink yet) previews fine; any other error must be fixed first.
  const blocking = checked.diagnostics.filter((d) => d.severity === "error" && !PARTIAL_GRAPH_CODES.has(d.code));
  if (!checked.pipeline || blocking.length) {
    throw new AppError("invalid_input", "The pipeline has errors; fix them to preview it.", blocking.length ? blocking : checked.diagnostics);
  }
  if (input.targetNodeId && !checked.pipeline.nodes.some((n) => n.id === input.targetNodeId)) {
    throw new AppError("invalid_input", `There is no node "${input.targetNodeId}" in this pipeline.`, [{ path: ["targetNodeId"], message: "unknown node" }]);
  }
  const payload = runPreviewPayload.parse({ previewId: randomUUID(), teamId: team.id, pipeline: checked.pipeline, targetNodeId: input.targetNodeId, mode: input.mode, limit: input.limit, seconds: input.seconds });
  const sources = [...new Set(checked.pipeline.nodes.flatMap((n) => (n.type === "source" ? [n.config.stream] : [])))];
  const limits = liveLimits();
  const slot = await acquireLiveSlot(principal, "preview", limits.PREVIEWS_PER_USER, limits.LIVE_ACCESS_RECHECK_MS * 3, "live previews");
  const reauthenticate = opts.reauthenticate ?? (() => refreshPrincipal(principal));
  const check = async () => {
    const current = await reauthenticate();
    const access = await requireTeamRole(current, teamSlug, "viewer");
    for (const stream of sources) await requireStreamAccess(access.team.id, stream, "read");
  };

  return async function* guarded(signal: AbortSignal): AsyncGenerator<PreviewEvent> {
    try {
      yield* guardLive(events, signal, { check, recheckMs: limits.LIVE_ACCESS_RECHECK_MS, renewed: slot.renew });
    } finally {
      await slot.release().catch(() => undefined);
    }
  };

  async function* events(signal: AbortSignal): AsyncGenerator<PreviewEvent> {
    const sub = createRedis({ maxRetriesPerRequest: 2 });
    const queue: PreviewEvent[] = [];
    let wake: (() => void) | undefined;
    const onMessage = (_channel: string, message: string) => {
      queue.push(JSON.parse(message) as PreviewEvent);
      wake?.();
    };
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    sub.on("message", onMessage);
    try {
      // Subscribe before enqueueing, so no event can be published unheard.
      await sub.subscribe(redisKeys.previewChannel(payload.previewId));
      // Failed jobs are kept a while, so a preview that was abandoned for stalling can say so (below).
      await previewQueue().add(jobNames.runPreview, payload, { jobId: payload.previewId, removeOnComplete: true, removeOnFail: { age: 600 }, attempts: 1 });
      const deadline = Date.now() + (payload.seconds + 30) * 1000;
      let quietSince = Date.now();
      while (!signal.aborted && Date.now() < deadline) {
        const e = queue.shift();
        if (!e) {
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, 1_000);
          });
          // Nothing for a while: if the job was failed (its worker stalled or died), no event will come.
          if (queue.length === 0 && Date.now() - quietSince >= 2_000) {
            quietSince = Date.now();
            const job = await Job.fromId(previewQueue(), payload.previewId);
            if (job && (await job.isFailed())) {
              yield { type: "error", message: /stalled|lock/i.test(job.failedReason ?? "") ? PREVIEW_STALLED_MESSAGE : `The preview failed: ${job.failedReason}` };
              return;
            }
          }
          continue;
        }
        quietSince = Date.now();
        yield e;
        if (e.type === "done" || e.type === "error") return;
      }
      if (!signal.aborted) yield { type: "done", reason: "timeout" };
    } finally {
      signal.removeEventListener("abort", onAbort);
      // Tell the worker to stop if it is still sampling (the browser left or we
      // timed out). Not on `sub`: a subscribed connection cannot run SET.
      await redis().set(redisKeys.previewCancel(payload.previewId), "1", "EX", 300);
      sub.disconnect();
    }
  }
}

export async function closePreviewQueue(): Promise<void> {
  await g.sluicePreviewQueue?.close();
  g.sluicePreviewQueue = undefined;
}
