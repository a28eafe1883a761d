import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "../..");

export interface SpawnedWorker {
  name: string;
  process: ChildProcess;
  /** Log lines (pino JSON) the worker wrote so far, when spawned with `capture`. */
  lines: string[];
}

/**
 * Real worker processes (`workers/task-worker.ts`) for integration tests that
 * need a process to die, stall or run apart from the test: one node process
 * each (not the tsx CLI, which forks a child that SIGKILL would orphan).
 */
export class WorkerPool {
  readonly all = new Map<string, SpawnedWorker>();

  spawn(name: string, opts: { env?: Record<string, string>; capture?: boolean } = {}): SpawnedWorker {
    const proc = spawn(process.execPath, ["--import", "tsx", join(root, "workers/task-worker.ts")], {
      cwd: root,
      env: { ...process.env, WORKER_NAME: name, WORKER_SLOTS: "4", LOG_LEVEL: "warn", ...opts.env },
      stdio: opts.capture ? ["ignore", "pipe", "pipe"] : "ignore",
    });
    const worker: SpawnedWorker = { name, process: proc, lines: [] };
    if (opts.capture) {
      let partial = "";
      const onData = (chunk: Buffer) => {
        const parts = (partial + chunk.toString("utf8")).split("\n");
        partial = parts.pop() ?? "";
        worker.lines.push(...parts.filter(Boolean));
      };
      proc.stdout!.on("data", onData);
      proc.stderr!.on("data", onData);
    }
    this.all.set(name, worker);
    return worker;
  }

  get(name: string): SpawnedWorker | undefined {
    return this.all.get(name);
  }

  /** SIGKILLs every worker still running and waits for them to exit. */
  async killAll(): Promise<void> {
    await Promise.all(
      [...this.all.values()].map(
        ({ process: p }) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once("exit", () => resolve());
            p.kill("SIGCONT");
            p.kill("SIGKILL");
          }),
      ),
    );
  }
}
