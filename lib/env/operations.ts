import { z } from "zod";
import { parseEnv } from "./parse";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no", "on", "off"])
  .transform((v) => v === "true" || v === "1" || v === "yes" || v === "on");

/**
 * Operations settings (metrics, retention, alerts, auto-restart) shared by the
 * web and worker processes; both env schemas extend this one, so a bad value
 * stops either at start-up with the variable's name. Documented in .env.example
 * and docs/operations.md.
 */
export const operationsEnvSchema = z.object({
  /** "off": tasks keep counts in memory (status) but write no metrics to ClickHouse. */
  SLUICE_METRICS: z.enum(["on", "off"]).default("on"),
  /** Days of per-minute metrics kept (whole days are dropped; ClickHouse 18.16 has no TTL). */
  SLUICE_METRICS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
  /** Days of hourly rollups kept (whole months are dropped). */
  SLUICE_METRICS_ROLLUP_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(400),
  /** Bearer token that protects GET /api/metrics (Prometheus). Unset: the endpoint answers 404. */
  SLUICE_METRICS_TOKEN: z.string().min(16, "must be at least 16 characters (generate one with `openssl rand -hex 24`)").optional(),
  /** How often the lease-holding worker evaluates alert rules. */
  SLUICE_ALERT_EVALUATION_MS: z.coerce.number().int().min(1_000).max(300_000).default(10_000),
  /**
   * Webhooks may target private, loopback and link-local addresses (127.0.0.1,
   * 10/8, 192.168/16, …). Off by default: a webhook URL is user input, and
   * those addresses are where Redis, ClickHouse and cloud metadata live.
   */
  SLUICE_WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  /** smtp[s]://user:password@host:port — e-mail channels work only when set. */
  SMTP_URL: z.string().regex(/^smtps?:\/\//, "must start with smtp:// or smtps://").optional(),
  SMTP_FROM: z.string().default("Sluice <sluice@localhost>"),
  /** A task failing this many times within SLUICE_RESTART_WINDOW_MS fails its deployment (and fires "task failed" alerts). */
  SLUICE_RESTART_MAX_FAILURES: z.coerce.number().int().min(1).max(1_000).default(5),
  SLUICE_RESTART_WINDOW_MS: z.coerce.number().int().min(1_000).default(10 * 60_000),
  /** Restart backoff: 1 s doubling per recent failure, capped here. */
  SLUICE_RESTART_BACKOFF_MAX_MS: z.coerce.number().int().min(100).default(60_000),
});
export type OperationsEnv = z.infer<typeof operationsEnvSchema>;

let cached: OperationsEnv | undefined;
export function operationsEnv(): OperationsEnv {
  cached ??= parseEnv(operationsEnvSchema);
  return cached;
}

/** Tests change settings between cases. */
export function resetOperationsEnv(): void {
  cached = undefined;
}
