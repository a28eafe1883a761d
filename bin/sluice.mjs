#!/usr/bin/env node
// `sluice` package bin: runs the TypeScript CLI through tsx (no build step).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const r = spawnSync(join(root, "node_modules/.bin/tsx"), [join(root, "lib/cli/main.ts"), ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(r.status ?? 1);
