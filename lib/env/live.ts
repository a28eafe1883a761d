import { z } from "zod";
import { parseEnv } from "./parse";

/**
 * Limits of live streams — the SSE tail of a stream and the live preview —
 * read by the web process (and the CLI's tail). Parsed on each use, so a
 * changed setting applies to the next stream opened. docs/security.md.
 */
export const liveLimitsSchema = z.object({
  /** How often an open tail or preview re-checks that its caller may still see what it shows. */
  LIVE_ACCESS_RECHECK_MS: z.coerce.number().int().min(200).max(60_000).default(5_000),
  /** Longest a tail stays open; then it ends with an error event saying so (reopen to go on). */
  TAIL_MAX_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** Tails one user (with all their API tokens) may have open at once, across web processes. */
  TAILS_PER_USER: z.coerce.number().int().min(1).max(1_000).default(5),
  /** Live previews one user (with all their API tokens) may have running at once. */
  PREVIEWS_PER_USER: z.coerce.number().int().min(1).max(1_000).default(3),
  /** Tails one web process serves at once (each polls the broker). */
  TAILS_PER_PROCESS: z.coerce.number().int().min(1).max(100_000).default(200),
});
export type LiveLimits = z.infer<typeof liveLimitsSchema>;

export function liveLimits(): LiveLimits {
  return parseEnv(liveLimitsSchema);
}
