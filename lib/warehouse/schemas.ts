import { z } from "zod";
import { streamSchemaInput } from "./field-schema";
import { reservedNameProblem } from "./reserved-names";

/** Stream names double as Kafka topic names: lowercase, dots for layers/namespaces. */
export const streamName = z
  .string()
  .min(3)
  .max(200)
  .regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$/, "use lowercase letters, digits, _ and -, with dots between parts (e.g. dwd.ads.clicks)");

export const DEFAULT_RETENTION_MS = 7 * 24 * 3_600_000;

export const createStreamInput = z.object({
  /** Reading a platform stream (a dead-letter stream) is fine; creating one under its prefix is not. */
  name: streamName.superRefine((name, ctx) => {
    const problem = reservedNameProblem(name);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
  layer: z.enum(["ODS", "DWD", "DWS", "ADS"]),
  description: z.string().max(20_000).default(""),
  tags: z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, "tags are short lowercase words")).max(20).default([]),
  partitions: z.number().int().min(1).max(256).default(3),
  /** null keeps records forever. */
  retentionMs: z.number().int().min(60_000).nullable().default(DEFAULT_RETENTION_MS),
  visibility: z.enum(["private", "team", "public"]).default("team"),
  schema: streamSchemaInput,
});
export type CreateStreamInput = z.input<typeof createStreamInput>;

export const produceInput = z.object({
  records: z
    .array(
      z.object({
        key: z.string().max(10_000).nullable().optional(),
        value: z.unknown(),
        headers: z.record(z.string(), z.string()).optional(),
        timestamp: z.number().int().nonnegative().optional(),
        partition: z.number().int().nonnegative().optional(),
      }),
    )
    .min(1)
    .max(10_000),
});
export type ProduceInput = z.infer<typeof produceInput>;

export const readQuery = z
  .object({
    partition: z.coerce.number().int().nonnegative().optional(),
    fromOffset: z.coerce.bigint().nonnegative().optional(),
    fromTimestamp: z.coerce.number().int().nonnegative().optional(),
    toTimestamp: z.coerce.number().int().nonnegative().optional(),
    /** Newest records when neither offset nor time is given. */
    limit: z.coerce.number().int().min(1).max(1_000).default(100),
  })
  .refine((q) => q.fromOffset === undefined || q.partition !== undefined, { message: "fromOffset needs a partition", path: ["partition"] });
export type ReadQuery = z.infer<typeof readQuery>;
