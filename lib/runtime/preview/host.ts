import { spawn, type ChildProcess } from "node:child_process";
import { setPriority } from "node:os";
import { join } from "node:path";
import { moduleLogger } from "@/lib/log/logger";

const log = moduleLogger("preview-host");

/** The child reports every PING_MS; silent for STALL_KILL_MS, it is killed and replaced. */
const PING_MS = 500;
/**
 * Lower CPU priority (nice) of the preview process: deployed tasks come first
 * when cores are short. Mild on purpose: at nice 10 a preview on a busy 2-core
 * machine got ~5% of a core and missed its own lock renewals.
 */
const PREVIEW_NICE = 5;

export interface PreviewHostOptions {
  /** Previews run at once in the child (0: this worker runs none). */
  concurrency: number;
  /** A child whose event loop is blocked this long is killed (its jobs are failed by the stalled check). */
  stallKillMs: number;
  entry?: string;
}

/**
 * Runs live previews in a child process of the worker (workers/preview-worker.ts).
 * A preview runs a user's unsaved graph on sample records — the place a
 * poison pill shows up first — so it must not share an event loop with
 * deployed tasks, whose BullMQ locks (3 s) and consumer heartbeats that loop
 * keeps alive: a preview that blocked it once took another team's running
 * pipeline off its worker. The child runs at a lower CPU priority, reports in
 * twice a second, and is killed and replaced when it goes silent; it exits by
 * itself when this process goes away (its IPC channel closes), so a kill -9
 * of the worker leaves no orphan.
 */
export function startPreviewHost(opts: PreviewHostOptions): { close(): Promise<void>; pid(): number | undefined } {
  const entry = opts.entry ?? join(import.meta.dirname, "../../../workers/preview-worker.ts");
  let child: ChildProcess | undefined;
  let closing = false;
  let lastPing = Date.now();
  let restarts = 0;

  const start = () => {
    if (closing || opts.concurrency <= 0) return;
    const c = spawn(process.execPath, [...process.execArgv, entry], {
      env: { ...process.env, PREVIEW_CONCURRENCY: String(opts.concurrency) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child = c;
    lastPing = Date.now();
    if (c.pid) {
      try {
        setPriority(c.pid, PREVIEW_NICE);
      } catch {
        // Not permitted here: the separate event loop is what matters.
      }
    }
    c.on("message", () => {
      lastPing = Date.now();
    });
    c.on("exit", (code, signal) => {
      if (child === c) child = undefined;
      if (closing) return;
      // Back off if it keeps dying at start-up (a broken install), up to 30 s.
      const delay = Math.min(30_000, 250 * 2 ** Math.min(restarts++, 7));
      log.warn({ code, signal, restartInMs: delay }, "preview process exited; starting a new one");
      setTimeout(start, delay).unref();
    });
  };

  const watchdog = setInterval(() => {
    if (!child || child.exitCode !== null) return;
    if (Date.now() - lastPing > opts.stallKillMs) {
      log.warn({ pid: child.pid, silentMs: Date.now() - lastPing }, "preview process stalled; killing it (its previews fail, and are not retried)");
      lastPing = Date.now();
      child.kill("SIGKILL");
    } else if (Date.now() - lastPing < PING_MS * 4) restarts = 0;
  }, PING_MS);
  watchdog.unref();
  start();

  return {
    pid: () => child?.pid,
    async close() {
      closing = true;
      clearInterval(watchdog);
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => c.kill("SIGKILL"), 10_000);
        c.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        c.kill("SIGTERM");
      });
    },
  };
}
