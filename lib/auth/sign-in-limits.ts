import { createHash } from "node:crypto";
import { APIError } from "better-auth/api";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { webEnv } from "@/lib/env/web";
import { QUEUE_PREFIX } from "@/lib/queue/contracts";
import { redis } from "@/lib/redis/client";

/**
 * Per-account sign-in limit, on top of better-auth's per-address one: a
 * password guesser with many addresses still gets SIGN_IN_ACCOUNT_ATTEMPTS
 * tries per account per window. Counted atomically in Redis (shared by every
 * web process) before the password is checked, so parallel guesses count too;
 * a successful sign-in starts the count again. rate-limiter-flexible is the
 * maintained library for exactly this (atomic Redis counters with expiry).
 * Unknown emails count like known ones, so the answer never says which exist.
 */
let limiter: RateLimiterRedis | undefined;
function accountLimiter(): RateLimiterRedis {
  const env = webEnv();
  limiter ??= new RateLimiterRedis({
    storeClient: redis(),
    keyPrefix: `${QUEUE_PREFIX}:sign-in-account`,
    points: env.SIGN_IN_ACCOUNT_ATTEMPTS,
    duration: env.SIGN_IN_ACCOUNT_WINDOW_MINUTES * 60,
  });
  return limiter;
}

// Emails are not kept in Redis in clear.
const accountKey = (email: string) => createHash("sha256").update(email.trim().toLowerCase()).digest("hex");

/** Counts one sign-in attempt for `email`; throws better-auth's 429 once the account's attempts are used up. */
export async function countSignInAttempt(email: unknown): Promise<void> {
  if (typeof email !== "string" || !email) return; // better-auth refuses the body itself
  try {
    await accountLimiter().consume(accountKey(email));
  } catch (e) {
    if (!(e instanceof RateLimiterRes)) {
      // Fail closed: without the counter, guesses could not be bounded.
      throw new APIError("SERVICE_UNAVAILABLE", { message: "Signing in is unavailable for a moment (the sign-in limit's store, Redis, cannot be reached). Try again shortly.", code: "SIGN_IN_UNAVAILABLE" });
    }
    const minutes = Math.max(1, Math.ceil(e.msBeforeNext / 60_000));
    throw new APIError(
      "TOO_MANY_REQUESTS",
      { message: `Too many sign-in attempts for this account. Wait ${minutes} minute${minutes === 1 ? "" : "s"}, then try again.`, code: "ACCOUNT_RATE_LIMITED" },
      { "Retry-After": String(Math.ceil(e.msBeforeNext / 1000)) },
    );
  }
}

/** A successful sign-in: the account's count starts again. */
export async function clearSignInAttempts(email: unknown): Promise<void> {
  if (typeof email === "string" && email) await accountLimiter().delete(accountKey(email));
}
