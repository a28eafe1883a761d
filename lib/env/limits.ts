import { z } from "zod";
import { parseEnv } from "./parse";

/**
 * Input limits shared by the web app and the CLI (docs/security.md, Limits).
 * They bound what one request or one record can cost the process that reads
 * it: memory for a body, stack for nesting.
 */
export const limitsEnvSchema = z.object({
  /** Request bodies larger than this are refused with 413 while they are read, never read in full. */
  SLUICE_MAX_BODY_BYTES: z.coerce.number().int().min(1_024).default(16 * 1024 * 1024),
  /** Deepest nesting of objects and lists in a record value (API and CLI); request bodies may nest a few levels more for their wrappers. */
  SLUICE_MAX_JSON_DEPTH: z.coerce.number().int().min(2).max(1_000).default(64),
});
export type LimitsEnv = z.infer<typeof limitsEnvSchema>;

/** Levels a request body may nest beyond SLUICE_MAX_JSON_DEPTH: `{ records: [ { value: … } ] }` and the like. */
export const BODY_WRAPPER_DEPTH = 8;

let cached: LimitsEnv | undefined;
export function limitsEnv(): LimitsEnv {
  cached ??= parseEnv(limitsEnvSchema);
  return cached;
}
