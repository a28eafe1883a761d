import { execFileSync } from "node:child_process";
import { chownSync, existsSync, rmSync, mkdirSync, readdirSync, writeFileSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { lineBuffer, spawnService, stopProcess, waitUntilReady, type ServiceProcess } from "./process";

export interface PostgresOptions {
  dataDir: string;
  port: number;
  user?: string;
  password: string;
  database?: string;
  onLine?: (line: string) => void;
}

/** Postgres refuses to run as root: when we are root, run it as the `postgres` system user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    return { uid, gid };
  } catch {
    throw new Error(
      "Postgres cannot run as root and there is no `postgres` system user. Create one (`useradd --system postgres`) or set DATABASE_URL to an existing server.",
    );
  }
}

/** Debian's postgresql package keeps its binaries off PATH, under /usr/lib/postgresql/<version>/bin. */
function pgBin(name: string): string {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return name;
  } catch {
    const base = "/usr/lib/postgresql";
    const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
    for (const v of versions) if (existsSync(join(base, v, "bin", name))) return join(base, v, "bin", name);
    throw new Error(`${name} not found: run \`npm run setup\` (installs postgresql) or set DATABASE_URL to an existing server.`);
  }
}

function chownTree(dir: string, ids: { uid: number; gid: number }) {
  chownSync(dir, ids.uid, ids.gid);
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) chownTree(p, ids);
    else chownSync(p, ids.uid, ids.gid);
  }
}

export async function startPostgres(opts: PostgresOptions): Promise<ServiceProcess> {
  const user = opts.user ?? "sluice";
  const database = opts.database ?? "sluice";
  const ids = runAs();
  const pgdata = join(opts.dataDir, "pgdata");
  const socketDir = join(opts.dataDir, "run");
  mkdirSync(socketDir, { recursive: true });
  const env = { ...process.env, LC_ALL: "C.UTF-8", LANG: "C.UTF-8" };

  if (!existsSync(join(pgdata, "PG_VERSION"))) {
    mkdirSync(pgdata, { recursive: true, mode: 0o700 });
    const pwfile = join(opts.dataDir, ".pwfile");
    writeFileSync(pwfile, opts.password + "\n", { mode: 0o600 });
    if (ids) chownTree(opts.dataDir, ids);
    // scram on TCP even for the embedded server: anyone else on the machine must
    // not be able to read the warehouse catalog without the generated password.
    execFileSync(
      pgBin("initdb"),
      ["-D", pgdata, "-U", user, `--pwfile=${pwfile}`, "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--no-instructions"],
      { stdio: "pipe", env, ...(ids ?? {}) },
    );
    rmSync(pwfile);
  } else if (ids) {
    chownSync(socketDir, ids.uid, ids.gid);
  }

  const recent = lineBuffer();
  const child = spawnService(
    pgBin("postgres"),
    ["-D", pgdata, "-p", String(opts.port), "-k", socketDir, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "fsync=on"],
    {
      env,
      ...(ids ?? {}),
      onLine: (l) => {
        recent.push(l);
        opts.onLine?.(l);
      },
    },
  );
  const url = `postgresql://${user}:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/postgres`;
  await waitUntilReady("postgres", child, async () => {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      const r = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
      if (r.rowCount === 0) await c.query(`CREATE DATABASE "${database}"`);
      return true;
    } finally {
      await c.end().catch(() => {});
    }
  }, 60_000, recent.text);
  return {
    name: "postgres",
    url: `postgresql://${user}:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/${database}`,
    child,
    // SIGINT = Postgres "fast" shutdown: roll back sessions, checkpoint, exit.
    stop: () => stopProcess(child, 30_000, "SIGINT"),
  };
}

/** Reads a secret saved next to a service's data, or creates it once. */
export function persistentSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url");
  writeFileSync(file, secret + "\n", { mode: 0o600 });
  return secret;
}
