#!/usr/bin/env node
// `sluice` package bin: runs the TypeScript CLI (lib/cli/main.ts) in this
// Node with the tsx loader (no build step). It finds its project from its own
// location (symlinks resolved), so it works from any directory: `npm link`
// puts it on PATH, or call it by its path. Relative `-f file` paths mean what
// they say where the user typed them.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const loaderFile = join(root, "node_modules/tsx/dist/loader.mjs");
if (!existsSync(loaderFile)) {
  process.stderr.write(`error: ${root} has no node_modules: run \`npm run setup\` there first.\n`);
  process.exit(1);
}
// `npm run sluice -- …` runs this from the package root; the user's directory is INIT_CWD.
const callerDir = process.env.npm_lifecycle_event === "sluice" && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd();
// Unset or empty: the project's .data; relative: relative to the project, as `npm start` reads it.
const dataDir = process.env.SLUICE_DATA_DIR ? resolve(root, process.env.SLUICE_DATA_DIR) : join(root, ".data");

const child = spawn(process.execPath, ["--import", pathToFileURL(loaderFile).href, join(root, "lib/cli/main.ts"), ...process.argv.slice(2)], {
  stdio: "inherit",
  cwd: callerDir,
  env: {
    ...process.env,
    // tsx reads path aliases (@/…) from the tsconfig it is pointed at, not the cwd's.
    TSX_TSCONFIG_PATH: join(root, "tsconfig.json"),
    SLUICE_DATA_DIR: dataDir,
    // The CLI's own log (kafkajs, Redis, …) is off unless asked for, and goes to stderr,
    // never into the records and JSON a command prints on stdout.
    LOG_LEVEL: process.env.SLUICE_CLI_LOG_LEVEL || "silent",
    LOG_DESTINATION: "stderr",
  },
});
// The CLI process decides what a signal means (Ctrl-C ends `stream tail` cleanly): pass them on.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("error", (e) => {
  process.stderr.write(`error: could not run the Sluice CLI: ${e.message}\n`);
  process.exit(1);
});
child.on("exit", (code, signal) => process.exit(code ?? 128 + ({ SIGINT: 2, SIGHUP: 1, SIGTERM: 15 }[signal] ?? 1)));
