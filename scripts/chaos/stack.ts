import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, createWriteStream, mkdirSync, mkdtempSync, rmSync, type WriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@clickhouse/client";
import getPort from "get-port";
import { migrateClickHouse } from "@/lib/clickhouse/migrate";
import { startBroker } from "../services/broker";
import { startClickHouse } from "../services/clickhouse";
import { migrate } from "../services/local-stack";
import { startPostgres } from "../services/postgres";
import { stopProcess, type ServiceProcess } from "../services/process";
import { startRedis } from "../services/redis";

/**
 * The chaos run's throwaway stack: the same service launchers as `npm start`
 * and the test harness (scripts/services), on free ports in a temp dir, but
 * each service can be killed, stopped and started again on the same data dir
 * and port, and the worker processes are ours to SIGKILL, SIGSTOP and SIGCONT.
 */
export type ServiceName = "postgres" | "redis" | "clickhouse" | "broker";

export class RestartableService {
  private current?: ServiceProcess;

  constructor(
    readonly name: ServiceName,
    private readonly launch: () => Promise<ServiceProcess>,
  ) {}

  get running(): boolean {
    const c = this.current?.child;
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  get pid(): number | undefined {
    return this.current?.child.pid;
  }

  async start(): Promise<ServiceProcess> {
    if (this.running) return this.current!;
    this.current = await this.launch();
    return this.current;
  }

  /** The service's own graceful stop (Postgres: fast shutdown; others SIGTERM), then SIGKILL after its grace period. */
  async stop(): Promise<void> {
    if (this.current) await this.current.stop();
  }

  /** kill -9, and wait until the process is gone. */
  async kill(): Promise<void> {
    if (!this.current || !this.running) return;
    await stopProcess(this.current.child, 0, "SIGKILL");
  }
}

export interface WorkerProcess {
  name: string;
  child: ChildProcess;
  paused: boolean;
}

export interface ChaosStackOptions {
  root: string;
  workers: number;
  workerSlots: number;
  /** Where data and logs go; a new temp dir when unset. */
  dir?: string;
}

export class ChaosStack {
  readonly services: Record<ServiceName, RestartableService>;
  readonly workers: WorkerProcess[] = [];
  env!: { DATABASE_URL: string; REDIS_URL: string; CLICKHOUSE_URL: string; KAFKA_BROKERS: string };
  private readonly logs = new Map<string, WriteStream>();
  private workerSeq = 0;

  private constructor(
    readonly opts: ChaosStackOptions,
    readonly dir: string,
    ports: { postgres: number; redis: number; clickhouseHttp: number; clickhouseTcp: number; kafka: number },
    secrets: { postgres: string; redis: string; clickhouse: string },
  ) {
    const line = (svc: string) => (l: string) => this.log(svc).write(l + "\n");
    this.services = {
      postgres: new RestartableService("postgres", () => startPostgres({ dataDir: join(dir, "postgres"), port: ports.postgres, password: secrets.postgres, onLine: line("postgres") })),
      redis: new RestartableService("redis", () => startRedis({ dataDir: join(dir, "redis"), port: ports.redis, password: secrets.redis, onLine: line("redis") })),
      clickhouse: new RestartableService("clickhouse", () =>
        startClickHouse({ dataDir: join(dir, "clickhouse"), httpPort: ports.clickhouseHttp, tcpPort: ports.clickhouseTcp, password: secrets.clickhouse, onLine: line("clickhouse") }),
      ),
      broker: new RestartableService("broker", () => startBroker({ root: opts.root, dataDir: join(dir, "broker"), port: ports.kafka, onLine: line("broker") })),
    };
  }

  static async start(opts: ChaosStackOptions): Promise<ChaosStack> {
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "sluice-chaos-"));
    // Postgres runs as the postgres user when we are root: it must reach its data dir.
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, "logs"), { recursive: true });
    const secret = () => randomBytes(16).toString("hex");
    const stack = new ChaosStack(
      opts,
      dir,
      { postgres: await getPort(), redis: await getPort(), clickhouseHttp: await getPort(), clickhouseTcp: await getPort(), kafka: await getPort() },
      { postgres: secret(), redis: secret(), clickhouse: secret() },
    );
    try {
      const [pg, rd, ch, kf] = await Promise.all(Object.values(stack.services).map((s) => s.start()));
      stack.env = { DATABASE_URL: pg.url, REDIS_URL: rd.url, CLICKHOUSE_URL: ch.url, KAFKA_BROKERS: kf.url };
      const clickhouse = createClient({ url: ch.url });
      try {
        await Promise.all([migrate(opts.root, pg.url), migrateClickHouse(clickhouse)]);
      } finally {
        await clickhouse.close();
      }
    } catch (e) {
      await stack.stop();
      throw e;
    }
    return stack;
  }

  private log(name: string): WriteStream {
    let s = this.logs.get(name);
    if (!s) this.logs.set(name, (s = createWriteStream(join(this.dir, "logs", `${name}.log`), { flags: "a" })));
    return s;
  }

  /** Starts one more worker process (`npm run worker`'s entry, as a direct child so SIGKILL leaves no orphan). */
  startWorker(): WorkerProcess {
    const name = `w${++this.workerSeq}`;
    const out = this.log(`worker-${name}`);
    const child = spawn(process.execPath, ["--import", "tsx", join(this.opts.root, "workers/task-worker.ts")], {
      cwd: this.opts.root,
      env: { ...process.env, ...this.env, WORKER_NAME: name, WORKER_SLOTS: String(this.opts.workerSlots), LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(out, { end: false });
    const w: WorkerProcess = { name, child, paused: false };
    this.workers.push(w);
    child.on("exit", () => {
      const i = this.workers.indexOf(w);
      if (i >= 0) this.workers.splice(i, 1);
    });
    return w;
  }

  liveWorkers(): WorkerProcess[] {
    return this.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  }

  /** Appends a line to the run's own log (faults, decisions), or to another log of the run. */
  note(line: string, log = "chaos"): void {
    this.log(log).write(`${new Date().toISOString()} ${line}\n`);
  }

  async stop(): Promise<void> {
    for (const w of this.workers) if (w.paused) w.child.kill("SIGCONT");
    await Promise.all(this.workers.map((w) => stopProcess(w.child, 15_000)));
    await Promise.all(Object.values(this.services).map((s) => s.stop().catch(() => {})));
    await Promise.all([...this.logs.values()].map((s) => new Promise((r) => s.end(r))));
    this.logs.clear();
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
