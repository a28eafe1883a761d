#!/usr/bin/env node
// npm run setup — idempotent; safe to run any time, and a fast no-op when
// nothing changed. Used by `npm start`, `npm test` and `npm run test:e2e`
// (with --if-needed) so a fresh clone works with one command.
//
//   node scripts/setup.mjs              everything: OS packages, npm ci, prisma generate, production build
//   node scripts/setup.mjs --if-needed  same, but skip the production build unless --build is given
//   node scripts/setup.mjs --build      (with --if-needed) also (re)build when sources changed
//
// Plain Node with no dependencies: it runs before node_modules exists.
// Downloads come only from the npm registry (npm ci) and Debian's apt.
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, readdirSync, statSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
const ifNeeded = args.has("--if-needed");
const wantBuild = !ifNeeded || args.has("--build");
const started = Date.now();

const say = (msg) => process.stdout.write(`[setup] ${msg}\n`);
function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: "inherit", ...opts });
  if (r.status !== 0) {
    say(`\`${cmd} ${argv.join(" ")}\` failed (exit ${r.status ?? r.signal}).`);
    process.exit(r.status || 1);
  }
}
const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
const postgresBinDir = () => {
  if (has("initdb") && has("postgres")) return "PATH";
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, "bin/initdb"))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], "bin") : undefined;
};
const sha = (...parts) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};
const stamp = (file) => (existsSync(file) ? readFileSync(file, "utf8").trim() : "");

// 1. OS packages -------------------------------------------------------------
// External services (env var set) do not need their server installed here.
const wanted = [
  ["postgresql", () => process.env.DATABASE_URL || postgresBinDir()],
  ["redis-server", () => process.env.REDIS_URL || has("redis-server")],
  ["clickhouse-server", () => process.env.CLICKHOUSE_URL || has("clickhouse-server")],
  ["kcat", () => has("kcat")],
  // The TLS tests make a throwaway PKI at test time (broker/test/certs.ts).
  ["openssl", () => has("openssl")],
  ["chromium", () => has("chromium")],
];
const missing = wanted.filter(([, ok]) => !ok()).map(([pkg]) => pkg);
if (missing.length) {
  const cmd = `apt-get update && apt-get install -y ${missing.join(" ")}`;
  if (process.getuid?.() !== 0) {
    say(`Missing OS packages: ${missing.join(", ")}. Install them as root, then run setup again:\n\n  sudo sh -c '${cmd}'\n`);
    process.exit(1);
  }
  say(`Installing OS packages: ${missing.join(", ")}`);
  run("apt-get", ["update", "-qq"]);
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}
// Postgres refuses to run as root; the supervisor runs it as this system user.
if (process.getuid?.() === 0 && !process.env.DATABASE_URL && spawnSync("id", ["-u", "postgres"], { stdio: "ignore" }).status !== 0) {
  say("Creating the `postgres` system user (Postgres will not run as root).");
  run("useradd", ["--system", "--home-dir", "/var/lib/postgresql", "--shell", "/usr/sbin/nologin", "postgres"]);
}

// 2. npm dependencies ----------------------------------------------------------
const lockHash = sha(readFileSync(join(root, "package-lock.json")), process.version);
const lockStamp = join(root, "node_modules/.sluice-lock-hash");
if (stamp(lockStamp) !== lockHash) {
  // `npm install` rather than `npm ci`: npm 11 omits other platforms' optional
  // packages (@next/swc-*, rollup, tailwind oxide) from lockfiles written here
  // and `npm ci` then refuses the lockfile as out of sync. `npm install` with
  // the committed lockfile installs the same versions and leaves it unchanged.
  say("Installing npm dependencies…");
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"]);
  writeFileSync(lockStamp, lockHash);
}

// 3. Prisma client -------------------------------------------------------------
const schemaHash = sha(readFileSync(join(root, "prisma/schema.prisma")), lockHash);
const schemaStamp = join(root, "node_modules/.sluice-prisma-hash");
if (stamp(schemaStamp) !== schemaHash || !existsSync(join(root, "node_modules/.prisma/client/index.js"))) {
  say("Generating the Prisma client…");
  run(process.execPath, [join(root, "scripts/prisma.mjs"), "generate"], { stdio: ["ignore", "ignore", "inherit"] });
  writeFileSync(schemaStamp, schemaHash);
}

// 4. Production build ----------------------------------------------------------
// Rebuilt only when anything the web app is built from changed.
function sourceHash() {
  const h = createHash("sha256");
  const inputs = ["app", "components", "lib", "public", "next.config.ts", "postcss.config.mjs", "tsconfig.json", "package-lock.json", "prisma/schema.prisma"];
  const walk = (p) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) if (e !== "node_modules" && !e.startsWith(".")) walk(join(p, e));
    } else if (!/\.(test|int\.test)\.tsx?$/.test(p)) {
      h.update(p.slice(root.length));
      h.update(readFileSync(p));
    }
  };
  for (const i of inputs) walk(join(root, i));
  return h.digest("hex");
}
if (wantBuild) {
  const buildHash = sourceHash();
  const distDir = process.env.NEXT_DIST_DIR ?? ".next";
  const buildStamp = join(root, distDir, ".sluice-build-hash");
  if (stamp(buildStamp) !== buildHash || !existsSync(join(root, distDir, "BUILD_ID"))) {
    say("Building the web app for production (next build)… this takes a minute or two.");
    run("npx", ["next", "build"], { env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
    mkdirSync(join(root, distDir), { recursive: true });
    writeFileSync(buildStamp, buildHash);
  }
}

const secs = ((Date.now() - started) / 1000).toFixed(1);
say(ifNeeded && secs < 2 ? `up to date (${secs}s)` : `done in ${secs}s`);
