-- Session tokens are stored as their SHA-256 (hex), see lib/auth/session-token-hashing.ts. Hash the
-- ones stored in clear, so people who are signed in stay signed in: a raw token has 32 characters,
-- a stored hash 64.
UPDATE "sessions" SET "token" = encode(sha256(convert_to("token", 'UTF8')), 'hex') WHERE length("token") <> 64;
