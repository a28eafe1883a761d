import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import getPort from "get-port";
import { Kafka, type KafkaConfig, logLevel } from "kafkajs";
import { createTestPki, type TestPki, writeUsersFile } from "./certs";

const root = fileURLToPath(new URL("../..", import.meta.url));
/**
 * `node --import tsx` rather than the tsx CLI: the CLI runs the script in a child process,
 * so a SIGKILL would hit the wrapper and leave the real broker running.
 */
export const nodeWithTsx = [process.execPath, "--import", "tsx"] as const;

/**
 * How test clients reach a broker: its listener's security protocol and, for SASL, the
 * mechanism kafkajs and kcat use. Secured brokers enable every mechanism (the bare wire
 * client logs in with PLAIN) and get a throwaway PKI and one test user.
 */
export interface Listener {
  name: string;
  protocol: "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";
  mechanism?: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";
  /** SSL: the broker requires a client certificate (mutual TLS). */
  clientCert?: boolean;
}
export const PLAINTEXT: Listener = { name: "PLAINTEXT", protocol: "PLAINTEXT" };
/** The listeners every conformance check runs through. */
export const LISTENERS: Listener[] = [
  PLAINTEXT,
  { name: "SASL_SSL SCRAM-SHA-256", protocol: "SASL_SSL", mechanism: "SCRAM-SHA-256" },
  { name: "SASL_SSL SCRAM-SHA-512", protocol: "SASL_SSL", mechanism: "SCRAM-SHA-512" },
  { name: "SASL_SSL PLAIN", protocol: "SASL_SSL", mechanism: "PLAIN" },
  { name: "SASL_PLAINTEXT SCRAM-SHA-512", protocol: "SASL_PLAINTEXT", mechanism: "SCRAM-SHA-512" },
  { name: "SSL with client certificates", protocol: "SSL", clientCert: true },
];

export const TEST_USER = { username: "sluice-test", password: "s3cret, with = and , in it" };

/**
 * One real broker process per test file, on a free port with its own temp data dir,
 * so kill -9 and restart tests never disturb each other.
 */
export class BrokerProcess {
  private child: ChildProcess | null = null;
  port = 0;
  output = "";
  pki: TestPki | null = null;

  constructor(
    readonly dataDir: string,
    private readonly extraArgs: string[] = [],
    readonly listener: Listener = PLAINTEXT,
  ) {}

  static async start(extraArgs: string[] = [], listener: Listener = PLAINTEXT): Promise<BrokerProcess> {
    const b = new BrokerProcess(mkdtempSync(join(tmpdir(), "sluice-broker-test-")), extraArgs, listener);
    b.port = await getPort();
    try {
      await b.spawn();
    } catch (err) {
      await b.destroy();
      throw err;
    }
    return b;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  get tls(): boolean {
    return this.listener.protocol === "SSL" || this.listener.protocol === "SASL_SSL";
  }

  get sasl(): boolean {
    return this.listener.protocol.startsWith("SASL_");
  }

  /** Broker flags for the listener (the PKI and users file are made on first use). */
  private securityArgs(): string[] {
    if (this.listener.protocol === "PLAINTEXT") return [];
    this.pki ??= createTestPki();
    const args = ["--security-protocol", this.listener.protocol];
    if (this.tls) args.push("--ssl-cert-file", this.pki.serverCertFile, "--ssl-key-file", this.pki.serverKeyFile);
    if (this.listener.clientCert) args.push("--ssl-ca-file", this.pki.caFile, "--ssl-client-auth", "required");
    if (this.sasl) {
      args.push("--sasl-users-file", writeUsersFile(this.pki.dir, { [TEST_USER.username]: TEST_USER.password }));
      args.push("--sasl-mechanisms", "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512");
    }
    return args;
  }

  /** kafkajs settings for this listener. */
  clientConfig(): Pick<KafkaConfig, "ssl" | "sasl"> {
    const out: Pick<KafkaConfig, "ssl" | "sasl"> = {};
    if (this.tls) {
      out.ssl = {
        ca: [this.pki!.read(this.pki!.caFile)],
        ...(this.listener.clientCert ? { cert: this.pki!.read(this.pki!.clientCertFile), key: this.pki!.read(this.pki!.clientKeyFile) } : {}),
      };
    }
    if (this.sasl) {
      const mechanism = this.listener.mechanism!.toLowerCase() as "plain" | "scram-sha-256" | "scram-sha-512";
      out.sasl = { mechanism, ...TEST_USER } as KafkaConfig["sasl"];
    }
    return out;
  }

  /** `-b host:port` plus librdkafka's security settings for this listener. */
  kcatArgs(): string[] {
    const args = ["-b", this.brokers];
    if (this.listener.protocol === "PLAINTEXT") return args;
    args.push("-X", `security.protocol=${this.listener.protocol.toLowerCase()}`);
    if (this.tls) args.push("-X", `ssl.ca.location=${this.pki!.caFile}`);
    if (this.listener.clientCert) args.push("-X", `ssl.certificate.location=${this.pki!.clientCertFile}`, "-X", `ssl.key.location=${this.pki!.clientKeyFile}`);
    if (this.sasl) args.push("-X", `sasl.mechanisms=${this.listener.mechanism}`, "-X", `sasl.username=${TEST_USER.username}`, "-X", `sasl.password=${TEST_USER.password}`);
    return args;
  }

  /**
   * Waits until the broker's output matches: it logs before it acts (say, before closing a
   * socket), but its stdout reaches the test through a pipe, which may deliver the line after
   * the client already saw the effect. So never read `output` at once for a line just logged.
   */
  async waitForOutput(pattern: RegExp, what: string): Promise<void> {
    await waitFor(() => pattern.test(this.output), what);
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  private spawn(): Promise<void> {
    const child = spawn(
      nodeWithTsx[0],
      [...nodeWithTsx.slice(1), join(root, "broker/src/main.ts"), "--port", String(this.port), "--data-dir", this.dataDir, "--log-level", "warn", ...this.securityArgs(), ...this.extraArgs],
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
    this.pki?.remove();
  }
}

export function kafka(b: BrokerProcess, clientId = "broker-test", overrides: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    brokers: [b.brokers],
    clientId,
    ...b.clientConfig(),
    logLevel: process.env.BROKER_TEST_DEBUG ? logLevel.INFO : logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100 },
    ...overrides,
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
