import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { z } from "zod";
import type { Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { AppError } from "@/lib/errors";
import { PARTIAL_GRAPH_CODES } from "@/lib/compiler";
import { checkPipeline } from "@/lib/pipelines/pipelines";
import { QUEUE_PREFIX, jobNames, queues, redisKeys, runPreviewPayload } from "@/lib/queue/contracts";
import { bullmqRedisOptions, createRedis, redis } from "@/lib/redis/client";
import type { PreviewEvent } from "./events";

/** What the browser sends: the job's options (same limits and defaults) plus the graph. */
export const previewInput = runPreviewPayload.pick({ targetNodeId: true, mode: true, limit: true, seconds: true }).extend({ pipeline: z.unknown() });
export type PreviewInput = z.input<typeof previewInput>;

const g = globalThis as unknown as { sluicePreviewQueue?: Queue };
const previewQueue = () => (g.sluicePreviewQueue ??= new Queue(queues.previews, { connection: createRedis(bullmqRedisOptions), prefix: QUEUE_PREFIX }));

/**
 * Validates first (422 with node diagnostics, before any job), then returns a
 * function that runs the preview on a worker and yields its events until it
 * is done, fails, or the caller aborts (the browser went away).
 */
export async function preparePreview(principal: Principal, teamSlug: string, raw: PreviewInput) {
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

  return async function* events(signal: AbortSignal): AsyncGenerator<PreviewEvent> {
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
      await previewQueue().add(jobNames.runPreview, payload, { jobId: payload.previewId, removeOnComplete: true, removeOnFail: true, attempts: 1 });
      const deadline = Date.now() + (payload.seconds + 30) * 1000;
      while (!signal.aborted && Date.now() < deadline) {
        const e = queue.shift();
        if (!e) {
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, 1_000);
          });
          continue;
        }
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
  };
}

export async function closePreviewQueue(): Promise<void> {
  await g.sluicePreviewQueue?.close();
  g.sluicePreviewQueue = undefined;
}
