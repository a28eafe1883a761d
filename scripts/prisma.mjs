#!/usr/bin/env node
// Runs the Prisma CLI offline. Usage:
//   node scripts/prisma.mjs generate
//   node scripts/prisma.mjs migrate deploy          (needs DATABASE_URL)
//   node scripts/prisma.mjs migrate-diff <name>     (authors a new migration from the schema change)
// Prisma would download native engine binaries it does not use with the WASM
// engine; pointing these variables at any existing file makes it skip that.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "node_modules/prisma/build/index.js");
const env = {
  ...process.env,
  PRISMA_QUERY_ENGINE_LIBRARY: process.env.PRISMA_QUERY_ENGINE_LIBRARY ?? process.execPath,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
  CHECKPOINT_DISABLE: "1",
  // schema.prisma validates that the variable exists even though the adapter's connection is used.
  DATABASE_URL: process.env.DATABASE_URL ?? "postgresql://unused@127.0.0.1/unused",
};

function prisma(args, opts = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, env, stdio: opts.capture ? ["ignore", "pipe", "inherit"] : "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
  return r.stdout?.toString() ?? "";
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === "migrate-diff") {
  const name = (rest[0] ?? "").replace(/[^a-z0-9_]/gi, "_").toLowerCase();
  if (!name) {
    console.error("usage: npm run db:diff -- <migration_name>");
    process.exit(2);
  }
  const migrationsDir = join(root, "prisma/migrations");
  const hasMigrations = readdirSync(migrationsDir, { withFileTypes: true }).some((d) => d.isDirectory());
  let from = ["--from-empty"];
  if (hasMigrations) {
    // The committed schema is what the existing migrations produce.
    const tmp = mkdtempSync(join(tmpdir(), "sluice-schema-"));
    const prev = join(tmp, "schema.prisma");
    writeFileSync(prev, execFileSync("git", ["show", "HEAD:prisma/schema.prisma"], { cwd: root }));
    from = ["--from-schema-datamodel", prev];
  }
  const sql = prisma(["migrate", "diff", ...from, "--to-schema-datamodel", "prisma/schema.prisma", "--script"], { capture: true });
  if (/^-- This is an empty migration/m.test(sql)) {
    console.log("No schema changes: nothing to migrate.");
    process.exit(0);
  }
  const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const dir = join(migrationsDir, `${stamp}_${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "migration.sql"), sql);
  console.log(`Wrote ${dir}/migration.sql — review it, then commit it with the schema change.`);
} else {
  prisma([cmd, ...rest].filter(Boolean));
}
