import { Command } from "commander";
import { z } from "zod";

/** Empty strings (e.g. `FOO=` in an .env file) count as unset, per the shop's env convention. */
const unsetIfEmpty = (v: unknown) => (v === "" ? undefined : v);
const int = (def: number) => z.preprocess(unsetIfEmpty, z.coerce.number().int().default(def));
const bool = (def: boolean) =>
  z.preprocess(unsetIfEmpty, z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]).default(def));

export const BrokerConfigSchema = z.object({
  host: z.preprocess(unsetIfEmpty, z.string().default("127.0.0.1")),
  port: int(9092).pipe(z.number().min(0).max(65535)),
  advertisedHost: z.preprocess(unsetIfEmpty, z.string().optional()),
  dataDir: z.preprocess(unsetIfEmpty, z.string().default(".data/broker")),
  nodeId: int(0),
  /** "ack": fsync (group commit) before acknowledging; "interval": acknowledge after write, fsync on a timer. */
  fsync: z.preprocess(unsetIfEmpty, z.enum(["ack", "interval"]).default("ack")),
  fsyncIntervalMs: int(1000).pipe(z.number().positive()),
  autoCreateTopics: bool(false),
  defaultPartitions: int(1).pipe(z.number().min(1)),
  cleanerIntervalMs: int(15_000).pipe(z.number().positive()),
  groupInitialRebalanceDelayMs: int(100).pipe(z.number().min(0)),
  groupMinSessionTimeoutMs: int(1_000).pipe(z.number().min(1)),
  groupMaxSessionTimeoutMs: int(1_800_000),
  transactionMaxTimeoutMs: int(900_000),
  maxRequestBytes: int(104_857_600),
  logLevel: z.preprocess(unsetIfEmpty, z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info")),
});
export type BrokerConfig = z.infer<typeof BrokerConfigSchema>;

const ENV: Record<keyof BrokerConfig, string> = {
  host: "BROKER_HOST",
  port: "BROKER_PORT",
  advertisedHost: "BROKER_ADVERTISED_HOST",
  dataDir: "BROKER_DATA_DIR",
  nodeId: "BROKER_NODE_ID",
  fsync: "BROKER_FSYNC",
  fsyncIntervalMs: "BROKER_FSYNC_INTERVAL_MS",
  autoCreateTopics: "BROKER_AUTO_CREATE_TOPICS",
  defaultPartitions: "BROKER_DEFAULT_PARTITIONS",
  cleanerIntervalMs: "BROKER_CLEANER_INTERVAL_MS",
  groupInitialRebalanceDelayMs: "BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS",
  groupMinSessionTimeoutMs: "BROKER_GROUP_MIN_SESSION_TIMEOUT_MS",
  groupMaxSessionTimeoutMs: "BROKER_GROUP_MAX_SESSION_TIMEOUT_MS",
  transactionMaxTimeoutMs: "BROKER_TRANSACTION_MAX_TIMEOUT_MS",
  maxRequestBytes: "BROKER_MAX_REQUEST_BYTES",
  logLevel: "BROKER_LOG_LEVEL",
};

function flag(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} <value>`;
}

/** CLI flags (kebab-case of each key) win over BROKER_* env vars, which win over defaults. */
export function parseBrokerConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  const program = new Command("sluice-broker")
    .description("Single-node Kafka-protocol broker for Sluice")
    .allowExcessArguments(false)
    .exitOverride();
  for (const key of Object.keys(ENV)) program.option(flag(key));
  program.parse(argv, { from: "user" });
  const cli = program.opts<Record<string, string>>();
  const raw: Record<string, unknown> = {};
  for (const [key, envName] of Object.entries(ENV)) raw[key] = cli[key] ?? env[envName];
  return BrokerConfigSchema.parse(raw);
}
