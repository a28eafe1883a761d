import { z } from "zod";
import { kafkaSecuritySettings } from "./kafka";
import { parseEnv } from "./parse";
import { serviceEnv } from "./services";

export const workerEnvSchema = serviceEnv.extend({
  /** How many tasks one worker process runs at once. */
  WORKER_SLOTS: z.coerce.number().int().min(1).max(64).default(4),
  /** Stable name for this worker in status views; defaults to host:pid. */
  WORKER_NAME: z.string().optional(),
});
export type WorkerEnv = z.infer<typeof workerEnvSchema>;

export function workerEnv(): WorkerEnv {
  const env = parseEnv(workerEnvSchema);
  kafkaSecuritySettings(); // the KAFKA_SSL*/KAFKA_SASL_* rules that span variables: fail at start, not at the first task
  return env;
}
