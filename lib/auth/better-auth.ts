import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { APIError, createAuthMiddleware } from "better-auth/api";
import { nextCookies } from "better-auth/next-js";
import { prisma } from "@/lib/db/prisma";
import { webEnv } from "@/lib/env/web";
import { displayNameProblem } from "@/lib/validation/display-name";
import { CLIENT_ADDRESS_HEADER } from "./client-address";
import { withHashedSessionTokens } from "./session-token-hashing";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, passwordProblem } from "./password-policy";
import { clearSignInAttempts, countSignInAttempt } from "./sign-in-limits";

/**
 * Email + password accounts with server-side sessions (stored in Postgres),
 * through better-auth: scrypt password hashing, session rotation, a sign-in
 * rate limiter per client address shared by every web process (counters in
 * the database) and a per-account one (sign-in-limits.ts).
 */
function createAuth() {
  const env = webEnv();
  return betterAuth({
    appName: "Sluice",
    baseURL: env.SLUICE_URL,
    secret: env.BETTER_AUTH_SECRET,
    database: withHashedSessionTokens(prismaAdapter(prisma(), { provider: "postgresql" })),
    emailAndPassword: { enabled: true, minPasswordLength: MIN_PASSWORD_LENGTH, maxPasswordLength: MAX_PASSWORD_LENGTH, autoSignIn: true },
    session: { expiresIn: 60 * 60 * 24 * 14, updateAge: 60 * 60 * 24 },
    rateLimit: {
      enabled: true,
      storage: "database",
      modelName: "rateLimit",
      window: 60,
      max: 300,
      customRules: {
        "/sign-in/email": { window: 60, max: env.SIGN_IN_RATE_LIMIT_PER_MINUTE },
        "/sign-up/email": { window: 60, max: env.SIGN_UP_RATE_LIMIT_PER_MINUTE },
      },
    },
    // The client address comes only from Sluice's web server (client-address.ts), never from X-Forwarded-For.
    advanced: { ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] } },
    hooks: {
      before: createAuthMiddleware(async (ctx) => {
        if (ctx.path === "/sign-in/email") await countSignInAttempt(ctx.body?.email);
        checkAccountInput(ctx.path, ctx.body);
      }),
      after: createAuthMiddleware(async (ctx) => {
        if (ctx.path === "/sign-in/email" && ctx.context.newSession) await clearSignInAttempts(ctx.body?.email);
      }),
    },
    trustedOrigins: [env.SLUICE_URL],
    telemetry: { enabled: false },
    plugins: [nextCookies()],
  });
}

export const USER_NAME_MAX = 80;

/**
 * Account input better-auth does not judge itself: user names are display
 * names (no hidden characters, at most USER_NAME_MAX), and new passwords must
 * not be common or easily guessed (password-policy.ts). Every route that sets
 * a name or a password goes through here, the CLI's `user create` too.
 */
function checkAccountInput(path: string, body: Record<string, unknown> | undefined): void {
  const bad = (message: string, code: string) => new APIError("BAD_REQUEST", { message, code });
  if ((path === "/sign-up/email" || path === "/update-user") && body?.name !== undefined) {
    const problem = displayNameProblem(body.name, 1, USER_NAME_MAX);
    if (problem) throw bad(`Your name ${problem}.`, "INVALID_NAME");
  }
  const password = path === "/sign-up/email" ? body?.password : path === "/change-password" || path === "/reset-password" || path === "/set-password" ? body?.newPassword : undefined;
  const related = [body?.email, body?.name].filter((v): v is string => typeof v === "string");
  const problem = password === undefined ? undefined : passwordProblem(password, related);
  if (problem) throw bad(problem, "WEAK_PASSWORD");
}

type Auth = ReturnType<typeof createAuth>;
const globalForAuth = globalThis as unknown as { sluiceAuth?: Auth };

export function auth(): Auth {
  globalForAuth.sluiceAuth ??= createAuth();
  return globalForAuth.sluiceAuth;
}
