import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliIO } from "./context";

/** The project's bin/sluice.mjs: what `npm link` puts on PATH. */
export const SLUICE_BIN = fileURLToPath(new URL("../../bin/sluice.mjs", import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `sluice` command as a user would: a new process started from
 * `bin` (default bin/sluice.mjs) in `cwd` (default a fresh temp directory,
 * outside the project), with the test stack's connection settings from the
 * environment and a data directory without sluice.env.
 */
export function runSluice(args: string[], opts: { cwd?: string; stdin?: string | Buffer; env?: Record<string, string | undefined>; bin?: string } = {}): Promise<CliRun> {
  const cwd = opts.cwd ?? mkdtempSync(join(tmpdir(), "sluice-cwd-"));
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_DATA_DIR: join(cwd, "no-data-here"), ...opts.env };
  // A test runner's npm variables would make the bin think `npm run sluice` started it.
  delete env.npm_lifecycle_event;
  delete env.INIT_CWD;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? SLUICE_BIN, ...args], { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.stdin ?? "");
  });
}

/** An in-process CliIO that records what a command prints. */
export function bufferIO(stdin: string | Buffer = "") {
  const out: string[] = [];
  const err: string[] = [];
  const bytes = typeof stdin === "string" ? Buffer.from(stdin, "utf8") : stdin;
  const io: CliIO = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    readStdin: async () => bytes.toString("utf8"),
    stdinStream: async function* () {
      // In pieces, as a pipe delivers them: line handling must not assume whole lines per chunk.
      for (let i = 0; i < bytes.length; i += 7_919) yield bytes.subarray(i, i + 7_919);
    },
  };
  return { io, out, err };
}
