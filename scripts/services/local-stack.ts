import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient } from "@clickhouse/client";
import { migrateClickHouse } from "@/lib/clickhouse/migrate";
import { brokerAvailable, startBroker } from "./broker";
import { startClickHouse } from "./clickhouse";
import { startPostgres } from "./postgres";
import type { ServiceProcess } from "./process";
import { startRedis } from "./redis";

const execFileP = promisify(execFile);

export interface StackPorts {
  postgres: number;
  redis: number;
  clickhouseHttp: number;
  clickhouseTcp: number;
  kafka: number;
}

export interface StackSecrets {
  postgresPassword: string;
  redisPassword: string;
  clickhousePassword: string;
}

export interface StackOptions {
  root: string;
  dataDir: string;
  ports: StackPorts;
  secrets: StackSecrets;
  /** Services already provided from outside (their env var is set): not started. */
  external: Partial<Record<"postgres" | "redis" | "kafka" | "clickhouse", string>>;
  onLine?: (service: string, line: string) => void;
}

export interface Stack {
  services: ServiceProcess[];
  env: { DATABASE_URL: string; REDIS_URL: string; CLICKHOUSE_URL: string; KAFKA_BROKERS?: string };
  /** Stops in reverse dependency order; each service gets its own grace period. */
  stop(): Promise<void>;
}

/**
 * Starts every backing service that is not configured externally, in parallel,
 * and applies database migrations. Shared by `npm start` and the test harness
 * so both run exactly the same services.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const started: ServiceProcess[] = [];
  const track = async (p: Promise<ServiceProcess>) => {
    const s = await p;
    started.push(s);
    return s;
  };
  const line = (svc: string) => (l: string) => opts.onLine?.(svc, l);
  try {
    const [pg, rd, ch, kf] = await Promise.all([
      opts.external.postgres
        ? undefined
        : track(startPostgres({ dataDir: join(opts.dataDir, "postgres"), port: opts.ports.postgres, password: opts.secrets.postgresPassword, onLine: line("postgres") })),
      opts.external.redis
        ? undefined
        : track(startRedis({ dataDir: join(opts.dataDir, "redis"), port: opts.ports.redis, password: opts.secrets.redisPassword, onLine: line("redis") })),
      opts.external.clickhouse
        ? undefined
        : track(startClickHouse({ dataDir: join(opts.dataDir, "clickhouse"), httpPort: opts.ports.clickhouseHttp, tcpPort: opts.ports.clickhouseTcp, password: opts.secrets.clickhousePassword, onLine: line("clickhouse") })),
      opts.external.kafka || !brokerAvailable(opts.root)
        ? undefined
        : track(startBroker({ root: opts.root, dataDir: join(opts.dataDir, "broker"), port: opts.ports.kafka, onLine: line("broker") })),
    ]);
    const env = {
      DATABASE_URL: opts.external.postgres ?? pg!.url,
      REDIS_URL: opts.external.redis ?? rd!.url,
      CLICKHOUSE_URL: opts.external.clickhouse ?? ch!.url,
      KAFKA_BROKERS: opts.external.kafka ?? kf?.url,
    };
    await Promise.all([migrate(opts.root, env.DATABASE_URL), migrateMetricsStore(env.CLICKHOUSE_URL)]);
    return { services: started, env, stop: () => stopAll(started) };
  } catch (e) {
    await stopAll(started);
    throw e;
  }
}

async function stopAll(services: ServiceProcess[]) {
  // Reverse start order; all of them are leaves for each other, so in parallel.
  await Promise.all([...services].reverse().map((s) => s.stop().catch(() => {})));
}

async function migrateMetricsStore(url: string): Promise<void> {
  const client = createClient({ url });
  try {
    await migrateClickHouse(client);
  } finally {
    await client.close();
  }
}

export async function migrate(root: string, databaseUrl: string): Promise<void> {
  try {
    await execFileP(process.execPath, [join(root, "scripts/prisma.mjs"), "migrate", "deploy"], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: databaseUrl },
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`Database migrations failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
}
