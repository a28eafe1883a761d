import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { createAuthMiddleware } from "better-auth/api";
import { nextCookies } from "better-auth/next-js";
import { prisma } from "@/lib/db/prisma";
import { webEnv } from "@/lib/env/web";
import { CLIENT_ADDRESS_HEADER } from "./client-address";
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
    database: prismaAdapter(prisma(), { provider: "postgresql" }),
    emailAndPassword: { enabled: true, minPasswordLength: 10, maxPasswordLength: 128, autoSignIn: true },
    session: { expiresIn: 60 * 60 * 24 * 14, updateAge: 60 * 60 * 24 },
    rateLimit: {
      enabled: true,
      storage: "database",
      modelName: "rateLimit",
      window: 60,
      max: 300,
      customRules: {
        "/sign-in/email": { window: 60, max: env.SIGN_IN_RATE_LIMIT_PER_MINUTE },
        "/sign-up/email": { window: 60, max: env.SIGN_IN_RATE_LIMIT_PER_MINUTE },
      },
    },
    // The client address comes only from Sluice's web server (client-address.ts), never from X-Forwarded-For.
    advanced: { ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] } },
    hooks: {
      before: createAuthMiddleware(async (ctx) => {
        if (ctx.path === "/sign-in/email") await countSignInAttempt(ctx.body?.email);
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

type Auth = ReturnType<typeof createAuth>;
const globalForAuth = globalThis as unknown as { sluiceAuth?: Auth };

export function auth(): Auth {
  globalForAuth.sluiceAuth ??= createAuth();
  return globalForAuth.sluiceAuth;
}
