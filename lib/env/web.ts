import { z } from "zod";
import { kafkaSecuritySettings } from "./kafka";
import { parseEnv, url } from "./parse";
import { operationsEnvSchema } from "./operations";
import { trustedProxies } from "@/lib/auth/client-address";
import { serviceEnv } from "./services";

export const webEnvSchema = serviceEnv.extend(operationsEnvSchema.shape).extend({
  /** Public URL of the web app; cookies and auth callbacks are bound to it. */
  SLUICE_URL: url(["http", "https"]).default("http://localhost:3000"),
  /** Signs sessions. `npm start` generates and keeps one in .data/secrets.json. */
  BETTER_AUTH_SECRET: z.string().min(32, "must be at least 32 characters (generate one with `openssl rand -base64 32`)"),
  /** Interface the web server listens on: loopback unless opened on purpose (`HOST=0.0.0.0`), like every embedded service. */
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /**
   * Proxies whose X-Forwarded-For is believed (IPs, CIDRs, `loopback`, …; see
   * lib/auth/client-address.ts). Unset: the client address is the socket's.
   */
  TRUSTED_PROXIES: z.string().optional().refine((v) => {
    try {
      trustedProxies(v);
      return true;
    } catch {
      return false;
    }
  }, "must be comma-separated IP addresses or CIDR ranges (e.g. 10.0.0.0/8,127.0.0.1), or loopback / linklocal / uniquelocal"),
  /** Sign-in attempts per client address per minute. */
  SIGN_IN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(10),
  /** Sign-up attempts per client address per minute (a counter apart from sign-in's). */
  SIGN_UP_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(10),
  /** Sign-in attempts per account (email) per SIGN_IN_ACCOUNT_WINDOW_MINUTES, from all addresses together; a success starts the count again. */
  SIGN_IN_ACCOUNT_ATTEMPTS: z.coerce.number().int().positive().default(10),
  SIGN_IN_ACCOUNT_WINDOW_MINUTES: z.coerce.number().int().positive().default(15),
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
