/**
 * npm start — the one supervisor. Starts every backing service that is not
 * configured externally (Postgres, Redis, ClickHouse, the embedded Kafka-protocol
 * broker), applies migrations, then runs the web app (scripts/web-server.ts) and N worker
 * processes, with prefixed logs. Ctrl-C / SIGTERM stops everything in order:
 * web and workers first (they finish in-flight work), then the services.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { parseEnv, brokerList, url } from "@/lib/env/parse";
import { startStack, type Stack } from "./services/local-stack";
import { kafkaSecuritySettings } from "@/lib/env/kafka";
import { loadOrCreateSecrets, writeLocalEnv } from "@/lib/env/local";
import { kafkaSecurityVariables } from "@/lib/kafka/security";
import { stopProcess } from "./services/process";

const root = fileURLToPath(new URL("..", import.meta.url));

const startEnvSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** The web app binds loopback like every embedded service; HOST=0.0.0.0 (behind TLS) opens it. */
  HOST: z.string().default("127.0.0.1"),
  SLUICE_URL: url(["http", "https"]).optional(),
  SLUICE_DATA_DIR: z.string().default(join(root, ".data")),
  WORKERS: z.coerce.number().int().min(0).max(32).default(2),
  DATABASE_URL: url(["postgres", "postgresql"]).optional(),
  REDIS_URL: url(["redis", "rediss"]).optional(),
  KAFKA_BROKERS: z.string().optional().pipe(brokerList.optional()),
  CLICKHOUSE_URL: url(["http", "https"]).optional(),
  BETTER_AUTH_SECRET: z.string().min(32).optional(),
  SLUICE_POSTGRES_PORT: z.coerce.number().int().default(5433),
  SLUICE_REDIS_PORT: z.coerce.number().int().default(6380),
  SLUICE_CLICKHOUSE_HTTP_PORT: z.coerce.number().int().default(8124),
  SLUICE_CLICKHOUSE_TCP_PORT: z.coerce.number().int().default(9001),
  SLUICE_KAFKA_PORT: z.coerce.number().int().default(9092),
});

const colors = ["\x1b[36m", "\x1b[35m", "\x1b[33m", "\x1b[32m", "\x1b[34m", "\x1b[31m"];
const reset = "\x1b[0m";
const useColor = process.stdout.isTTY;
const prefixes = new Map<string, string>();
function log(name: string, line: string) {
  if (!prefixes.has(name)) prefixes.set(name, useColor ? colors[prefixes.size % colors.length] : "");
  const tag = name.padEnd(10);
  process.stdout.write(`${prefixes.get(name)}${tag}${useColor ? reset : ""}| ${line}\n`);
}

function runChild(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(cmd, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  for (const s of [child.stdout!, child.stderr!]) createInterface({ input: s }).on("line", (l) => log(name, l));
  return child;
}

async function main() {
  const cfg = parseEnv(startEnvSchema);
  const kafkaSecurity = kafkaSecuritySettings();
  if (!cfg.KAFKA_BROKERS && (kafkaSecurity.KAFKA_SSL || kafkaSecurity.KAFKA_SASL_MECHANISM)) {
    log("sluice", "KAFKA_SSL / KAFKA_SASL_MECHANISM are set but KAFKA_BROKERS is not: they are for your own Kafka cluster (the embedded broker npm start runs is plaintext on 127.0.0.1). Set KAFKA_BROKERS, or unset them.");
    process.exit(1);
  }
  const secrets = loadOrCreateSecrets(cfg.SLUICE_DATA_DIR);
  const publicUrl = cfg.SLUICE_URL ?? `http://localhost:${cfg.PORT}`;

  log("sluice", `starting services (data in ${cfg.SLUICE_DATA_DIR})…`);
  let stack: Stack;
  try {
    stack = await startStack({
      root,
      dataDir: cfg.SLUICE_DATA_DIR,
      ports: {
        postgres: cfg.SLUICE_POSTGRES_PORT,
        redis: cfg.SLUICE_REDIS_PORT,
        clickhouseHttp: cfg.SLUICE_CLICKHOUSE_HTTP_PORT,
        clickhouseTcp: cfg.SLUICE_CLICKHOUSE_TCP_PORT,
        kafka: cfg.SLUICE_KAFKA_PORT,
      },
      secrets,
      external: {
        postgres: cfg.DATABASE_URL,
        redis: cfg.REDIS_URL,
        clickhouse: cfg.CLICKHOUSE_URL,
        kafka: cfg.KAFKA_BROKERS?.join(","),
      },
      onLine: (svc, l) => log(svc, l),
    });
  } catch (e) {
    log("sluice", `could not start the services: ${e instanceof Error ? e.message : e}`);
    log("sluice", "if a port is taken, set SLUICE_POSTGRES_PORT / SLUICE_REDIS_PORT / SLUICE_CLICKHOUSE_HTTP_PORT / SLUICE_KAFKA_PORT (see .env.example)");
    process.exit(1);
  }

  const appEnv = {
    ...stack.env,
    // TLS/SASL settings for an external cluster, so the CLI (which reads .data/sluice.env) connects like the workers.
    ...(cfg.KAFKA_BROKERS ? kafkaSecurityVariables() : {}),
    SLUICE_URL: publicUrl,
    BETTER_AUTH_SECRET: cfg.BETTER_AUTH_SECRET ?? secrets.betterAuthSecret,
  };
  writeLocalEnv(cfg.SLUICE_DATA_DIR, appEnv);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...appEnv, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" };

  const children = new Map<string, ChildProcess>();
  let stopping = false;

  const web = runChild("web", process.execPath, ["--import", "tsx", join(root, "scripts/web-server.ts")], { ...childEnv, PORT: String(cfg.PORT), HOST: cfg.HOST });
  children.set("web", web);
  web.on("exit", (code) => {
    if (!stopping) {
      log("sluice", `the web app exited (code ${code}); stopping everything.`);
      void shutdown(1);
    }
  });

  const startWorker = (i: number, restarts = 0) => {
    const name = `worker-${i}`;
    const w = runChild(name, process.execPath, ["--import", "tsx", join(root, "workers/task-worker.ts")], { ...childEnv, WORKER_NAME: `${process.env.HOSTNAME ?? "local"}-${i}` });
    children.set(name, w);
    const startedAt = Date.now();
    w.on("exit", (code) => {
      if (stopping) return;
      // A crashing worker is restarted with backoff; its tasks are taken over meanwhile.
      const next = Date.now() - startedAt > 60_000 ? 0 : restarts + 1;
      const delay = Math.min(30_000, 500 * 2 ** next);
      log("sluice", `${name} exited (code ${code}); restarting in ${(delay / 1000).toFixed(1)}s`);
      setTimeout(() => !stopping && startWorker(i, next), delay);
    });
  };
  for (let i = 1; i <= cfg.WORKERS; i++) startWorker(i);

  const shutdown = async (code = 0) => {
    if (stopping) return;
    stopping = true;
    log("sluice", "stopping: web and workers first, then services…");
    await Promise.all([...children.values()].map((c) => stopProcess(c, 20_000)));
    await stack.stop();
    log("sluice", "stopped.");
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  const rows: [string, string][] = [
    ["Web app", `${publicUrl} (listening on ${cfg.HOST}:${cfg.PORT}${cfg.HOST === "127.0.0.1" ? "; HOST=0.0.0.0 opens it to the network" : ""})`],
    ["Health", `${publicUrl}/api/health`],
    ["Postgres", cfg.DATABASE_URL ? "external (DATABASE_URL)" : `127.0.0.1:${cfg.SLUICE_POSTGRES_PORT}`],
    ["Redis", cfg.REDIS_URL ? "external (REDIS_URL)" : `127.0.0.1:${cfg.SLUICE_REDIS_PORT}`],
    ["ClickHouse", cfg.CLICKHOUSE_URL ? "external (CLICKHOUSE_URL)" : `http://127.0.0.1:${cfg.SLUICE_CLICKHOUSE_HTTP_PORT}`],
    [
      "Kafka",
      cfg.KAFKA_BROKERS
        ? `external (${cfg.KAFKA_BROKERS.join(",")}${kafkaSecurity.KAFKA_SSL ? ", TLS" : ""}${kafkaSecurity.KAFKA_SASL_MECHANISM ? `, SASL ${kafkaSecurity.KAFKA_SASL_MECHANISM}` : ""})`
        : stack.env.KAFKA_BROKERS
          ? `embedded broker ${stack.env.KAFKA_BROKERS}`
          : "not available (set KAFKA_BROKERS)",
    ],
    ["Workers", String(cfg.WORKERS)],
    ["CLI", "npm run sluice -- --help"],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  log("sluice", "Sluice is running — Ctrl-C to stop");
  for (const [k, v] of rows) log("sluice", `  ${k.padEnd(w)}  ${v}`);
}

void main();
