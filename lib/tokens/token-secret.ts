import { createHash, randomBytes } from "node:crypto";

/** Prefix makes leaked tokens easy to recognise (and to scan for in repositories). */
export const TOKEN_PREFIX = "slc_";

export function generateTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

/** Tokens are 256-bit random values, so a fast hash is enough (no need for a slow KDF). */
export function hashToken(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
