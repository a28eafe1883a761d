import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * A backing service process started by the supervisor or the test harness.
 * Services run in the foreground as our children so that stopping Sluice never
 * leaves orphans behind (no daemonising, no pid files to go stale).
 */
export interface ServiceProcess {
  name: string;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface SpawnServiceOptions extends SpawnOptions {
  /** Called with each output line (stdout and stderr). */
  onLine?: (line: string) => void;
}

export function spawnService(cmd: string, args: string[], opts: SpawnServiceOptions = {}): ChildProcess {
  const { onLine, ...spawnOpts } = opts;
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...spawnOpts });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    const rl = createInterface({ input: stream });
    rl.on("line", (line) => onLine?.(line));
  }
  return child;
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL. Resolves once the process is gone. */
export function stopProcess(child: ChildProcess, graceMs = 15_000, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** Polls `probe` until it resolves true, the child dies, or the timeout passes. */
export async function waitUntilReady(
  name: string,
  child: ChildProcess,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
  recentOutput: () => string = () => "",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (code ${child.exitCode ?? child.signalCode}) before it was ready.\n${recentOutput()}`);
    }
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} was not ready after ${timeoutMs / 1000}s.\n${recentOutput()}`);
}

/** Keeps the last lines a service printed, to explain a failed start. */
export function lineBuffer(max = 40) {
  const lines: string[] = [];
  return {
    push(line: string) {
      lines.push(line);
      if (lines.length > max) lines.shift();
    },
    text: () => lines.join("\n"),
  };
}
