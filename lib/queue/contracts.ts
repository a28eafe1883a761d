import { z } from "zod";

/**
 * Every BullMQ queue, job name and payload schema in one place: producers and
 * processors import from here so they cannot drift apart. Payload fields added
 * later must be optional, because during a rolling deploy old workers read
 * jobs written by new web processes and the other way round.
 */
export const QUEUE_PREFIX = "sluice";

export const queues = {
  /** Long-running pipeline tasks: one job per (deployment, stage, task index). */
  tasks: "pipeline-tasks",
  /** Short-lived live-preview runs. */
  previews: "pipeline-previews",
  /** A UDF's "Test run" from the inspector, run off the web server (lib/udf/test-run.ts). */
  udfTestRuns: "udf-test-runs",
  /** One job per alert notification to a webhook or e-mail channel (retried with backoff). */
  alertDeliveries: "alert-deliveries",
} as const;

export const jobNames = {
  runTask: "run-task",
  runPreview: "run-preview",
  runUdfTest: "run-udf-test",
  deliverAlert: "deliver-alert",
} as const;

export const runTaskPayload = z.object({
  deploymentId: z.string(),
  taskIndex: z.number().int().min(0),
  /** Bumped on every redeploy/scale so a stale job recognises it is superseded. */
  generation: z.number().int().min(0),
  /** The stage the task runs (keyed scale-out); absent: "main", the only stage of most pipelines. */
  stage: z.string().optional(),
});
export type RunTaskPayload = z.infer<typeof runTaskPayload>;

export const runPreviewPayload = z.object({
  previewId: z.string(),
  teamId: z.string(),
  /** The (possibly unsaved) pipeline definition JSON, validated again by the worker. */
  pipeline: z.unknown(),
  /** Node whose output the user looks at; every node's counts are reported either way. */
  targetNodeId: z.string().optional(),
  /** "sample": the last `limit` records of each source; "tail": records arriving for up to `seconds`. */
  mode: z.enum(["sample", "tail"]).default("sample"),
  limit: z.number().int().min(1).max(1_000).default(100),
  seconds: z.number().int().min(1).max(120).default(30),
});
export type RunPreviewPayload = z.infer<typeof runPreviewPayload>;

export const runUdfTestPayload = z.object({
  testRunId: z.string(),
  teamId: z.string(),
  source: z.string(),
  form: z.enum(["map", "flatMap", "filter"]),
  timeoutMs: z.number().int().positive(),
  memoryMb: z.number().int().positive(),
  rows: z.array(z.record(z.string(), z.unknown())).max(1_000),
});
export type RunUdfTestPayload = z.infer<typeof runUdfTestPayload>;
export const deliverAlertPayload = z.object({
  /** An AlertDelivery row; the job id is the same, so enqueueing it twice is harmless. */
  deliveryId: z.string(),
});
export type DeliverAlertPayload = z.infer<typeof deliverAlertPayload>;

/** Redis keys outside BullMQ (worker presence, preview fan-out). */
export const redisKeys = {
  workers: `${QUEUE_PREFIX}:workers`,
  worker: (id: string) => `${QUEUE_PREFIX}:worker:${id}`,
  /** The worker's last heartbeat, kept for an hour so the fleet page can show a dead worker. */
  workerLastSeen: (id: string) => `${QUEUE_PREFIX}:worker:${id}:last-seen`,
  /** Pub/sub channel a preview's events are published on (worker → web). */
  previewChannel: (previewId: string) => `${QUEUE_PREFIX}:preview:${previewId}`,
  /** Set by the web process when the browser went away: the worker stops the preview. */
  previewCancel: (previewId: string) => `${QUEUE_PREFIX}:preview:${previewId}:cancel`,
  /** Pub/sub channel a UDF test run's result is published on (worker → web). */
  udfTestChannel: (testRunId: string) => `${QUEUE_PREFIX}:udf-test:${testRunId}`,
} as const;
