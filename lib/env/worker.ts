import { z } from "zod";
import { kafkaSecuritySettings } from "./kafka";
import { parseEnv } from "./parse";
import { operationsEnvSchema } from "./operations";
import { serviceEnv } from "./services";

export const workerEnvSchema = serviceEnv.extend(operationsEnvSchema.shape).extend({
  /** How many tasks one worker process runs at once. */
  WORKER_SLOTS: z.coerce.number().int().min(1).max(64).default(4),
  /** Stable name for this worker in status views; defaults to host:pid. */
  WORKER_NAME: z.string().optional(),
  /** Live previews one worker machine runs at once, in its preview process (0: none here). */
  PREVIEW_CONCURRENCY: z.coerce.number().int().min(0).max(32).default(2),
  /** A preview process whose event loop is blocked this long is killed and replaced. */
  PREVIEW_STALL_KILL_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** UDF test runs one worker machine runs at once, in its preview process. */
  UDF_TEST_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
  /** Longest a sample preview may run; a tail preview gets its `seconds` plus 5 s. */
  PREVIEW_MAX_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
});
export type WorkerEnv = z.infer<typeof workerEnvSchema>;

export function workerEnv(): WorkerEnv {
  const env = parseEnv(workerEnvSchema);
  kafkaSecuritySettings(); // the KAFKA_SSL*/KAFKA_SASL_* rules that span variables: fail at start, not at the first task
  return env;
}
