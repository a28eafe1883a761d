import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Secrets and connection settings of the local (embedded) services live in
 * .data/: generated once, reused by every later `npm start`, the workers and
 * the CLI, and never committed.
 */
export interface LocalSecrets {
  postgresPassword: string;
  redisPassword: string;
  clickhousePassword: string;
  betterAuthSecret: string;
}

export function loadOrCreateSecrets(dataDir: string): LocalSecrets {
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  const file = join(dataDir, "secrets.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as LocalSecrets;
  const gen = (n: number) => randomBytes(n).toString("base64url");
  const secrets: LocalSecrets = { postgresPassword: gen(18), redisPassword: gen(18), clickhousePassword: gen(18), betterAuthSecret: gen(32) };
  writeFileSync(file, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600 });
  return secrets;
}

/** Written by `npm start`: what the CLI and ad-hoc scripts need to reach the running services. */
export const LOCAL_ENV_FILE = "sluice.env";

export function writeLocalEnv(dataDir: string, env: Record<string, string | undefined>): void {
  const lines = Object.entries(env)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  writeFileSync(join(dataDir, LOCAL_ENV_FILE), "# Written by `npm start`; do not edit (it is rewritten at every start).\n" + lines.join("\n") + "\n", { mode: 0o600 });
}

/** Loads .data/sluice.env into process.env for variables not already set. */
export function loadLocalEnv(dataDir: string): boolean {
  const file = join(dataDir, LOCAL_ENV_FILE);
  if (!existsSync(file)) return false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m && !process.env[m[1]]) process.env[m[1]] = m[2];
  }
  return true;
}
