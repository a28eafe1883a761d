import { z } from "zod";
import { kafkaSecuritySettings } from "./kafka";
import { parseEnv, url } from "./parse";
import { operationsEnvSchema } from "./operations";
import { serviceEnv } from "./services";

export const webEnvSchema = serviceEnv.extend(operationsEnvSchema.shape).extend({
  /** Public URL of the web app; cookies and auth callbacks are bound to it. */
  SLUICE_URL: url(["http", "https"]).default("http://localhost:3000"),
  /** Signs sessions. `npm start` generates and keeps one in .data/secrets.json. */
  BETTER_AUTH_SECRET: z.string().min(32, "must be at least 32 characters (generate one with `openssl rand -base64 32`)"),
  SIGN_IN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(10),
});
export type WebEnv = z.infer<typeof webEnvSchema>;

let cached: WebEnv | undefined;
export function webEnv(): WebEnv {
  if (!cached) {
    const env = parseEnv(webEnvSchema);
    kafkaSecuritySettings(); // the KAFKA_SSL*/KAFKA_SASL_* rules that span variables
    cached = env;
  }
  return cached;
}
