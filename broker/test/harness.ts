import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import getPort from "get-port";
import { Kafka, logLevel } from "kafkajs";

const root = fileURLToPath(new URL("../..", import.meta.url));
/**
 * `node --import tsx` rather than the tsx CLI: the CLI runs the script in a child process,
 * so a SIGKILL would hit the wrapper and leave the real broker running.
 */
export const nodeWithTsx = [process.execPath, "--import", "tsx"] as const;

/**
 * One real broker process per test file, on a free port with its own temp data dir,
 * so kill -9 and restart tests never disturb each other.
 */
export class BrokerProcess {
  private child: ChildProcess | null = null;
  port = 0;
  output = "";

  constructor(
    readonly dataDir: string,
    private readonly extraArgs: string[] = [],
  ) {}

  static async start(extraArgs: string[] = []): Promise<BrokerProcess> {
    const b = new BrokerProcess(mkdtempSync(join(tmpdir(), "sluice-broker-test-")), extraArgs);
    b.port = await getPort();
    await b.spawn();
    return b;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  private spawn(): Promise<void> {
    const child = spawn(
      nodeWithTsx[0],
      [...nodeWithTsx.slice(1), join(root, "broker/src/main.ts"), "--port", String(this.port), "--data-dir", this.dataDir, "--log-level", "warn", ...this.extraArgs],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`broker did not start:\n${this.output}`)), 30_000);
      const onData = (d: Buffer) => {
        this.output = (this.output + d.toString()).slice(-20_000);
        if (this.output.includes("listening")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`broker exited with ${code}:\n${this.output}`));
      });
    });
  }

  private waitExit(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child?.exitCode ?? null);
    return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  /** SIGTERM and wait: a clean shutdown. Returns the exit code. */
  async stop(): Promise<number | null> {
    const exited = this.waitExit();
    this.child?.kill("SIGTERM");
    const code = await exited;
    this.child = null;
    return code;
  }

  /** kill -9: no shutdown code runs; only what was fsync'd survives a real power loss. */
  async kill9(): Promise<void> {
    const exited = this.waitExit();
    this.child?.kill("SIGKILL");
    await exited;
    this.child = null;
  }

  async restart(): Promise<void> {
    this.output = "";
    await this.spawn();
  }

  async destroy(): Promise<void> {
    if (this.child) await this.kill9();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export function kafka(b: BrokerProcess, clientId = "broker-test"): Kafka {
  return new Kafka({
    brokers: [b.brokers],
    clientId,
    logLevel: process.env.BROKER_TEST_DEBUG ? logLevel.INFO : logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100 },
  });
}

/** Runs kcat (librdkafka) and collects stdout; rejects on a non-zero exit. */
export function kcat(args: string[], input?: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("kcat", args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`kcat ${args.join(" ")} timed out:\n${err}`));
    }, timeoutMs);
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`kcat ${args.join(" ")} exited ${code}:\n${err}`));
    });
    child.stdin.end(input ?? "");
  });
}

export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
