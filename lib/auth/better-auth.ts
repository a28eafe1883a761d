import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { nextCookies } from "better-auth/next-js";
import { prisma } from "@/lib/db/prisma";
import { webEnv } from "@/lib/env/web";

/**
 * Email + password accounts with server-side sessions (stored in Postgres),
 * through better-auth: scrypt password hashing, session rotation and a sign-in
 * rate limiter shared by every web process (counters in the database).
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
