import { z } from "zod";
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
  return parseEnv(workerEnvSchema);
}
