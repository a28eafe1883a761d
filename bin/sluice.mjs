#!/usr/bin/env node
// `sluice` package bin: runs the TypeScript CLI in this process's Node with the
// tsx loader (no build step). The working directory stays the caller's, so
// relative `-f file` paths mean what they say.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const loader = pathToFileURL(join(root, "node_modules/tsx/dist/loader.mjs")).href;
const r = spawnSync(process.execPath, ["--import", loader, join(root, "lib/cli/main.ts"), ...process.argv.slice(2)], {
  stdio: "inherit",
  // tsx reads path aliases (@/…) from the tsconfig it is pointed at, not the cwd's.
  env: { ...process.env, TSX_TSCONFIG_PATH: join(root, "tsconfig.json"), SLUICE_DATA_DIR: process.env.SLUICE_DATA_DIR ?? join(root, ".data") },
});
process.exit(r.status ?? 1);
