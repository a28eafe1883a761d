import { Command } from "commander";
import { z } from "zod";
import { SASL_MECHANISMS } from "./security/sasl";

/** Empty strings (e.g. `FOO=` in an .env file) count as unset, per the shop's env convention. */
const unsetIfEmpty = (v: unknown) => (v === "" ? undefined : v);
const int = (def: number) => z.preprocess(unsetIfEmpty, z.coerce.number().int().default(def));
const bool = (def: boolean) =>
  z.preprocess(unsetIfEmpty, z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]).default(def));

const optionalString = z.preprocess(unsetIfEmpty, z.string().optional());

export const SECURITY_PROTOCOLS = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] as const;

export const BrokerConfigSchema = z
  .object({
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
  /** Kafka's connections.max.idle.ms: no request in flight and no bytes for this long closes the connection. */
  connectionsMaxIdleMs: int(600_000).pipe(z.number().positive()),
  /** A request frame must arrive whole within this long of its first bytes (stops half-sent frames holding a connection). */
  requestReadTimeoutMs: int(30_000).pipe(z.number().positive()),
  /** TLS handshake plus SASL authentication must finish within this long of connecting. */
  authenticationTimeoutMs: int(10_000).pipe(z.number().positive()),
  /** Kafka's connection.failed.authentication.delay.ms: slows password guessing. */
  failedAuthenticationDelayMs: int(100).pipe(z.number().min(0)),
  /** The listener's security, as Kafka names it: PLAINTEXT (default), SSL, SASL_PLAINTEXT, SASL_SSL. */
  securityProtocol: z.preprocess(unsetIfEmpty, z.enum(SECURITY_PROTOCOLS).default("PLAINTEXT")),
  sslCertFile: optionalString,
  sslKeyFile: optionalString,
  /** CA bundle that client certificates must chain to (for --ssl-client-auth). */
  sslCaFile: optionalString,
  sslClientAuth: z.preprocess(unsetIfEmpty, z.enum(["none", "requested", "required"]).default("none")),
  /** Comma-separated; default SCRAM-SHA-256,SCRAM-SHA-512, plus PLAIN on SASL_SSL. */
  saslMechanisms: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .transform((s) => s.split(",").map((m) => m.trim().toUpperCase()).filter(Boolean))
      .pipe(z.array(z.enum(SASL_MECHANISMS)).min(1))
      .optional(),
  ),
  /** JSON {"users": {"name": "password"}}; required for the SASL protocols. */
  saslUsersFile: optionalString,
  saslScramIterations: int(4096).pipe(z.number().min(4096, "SCRAM needs at least 4096 iterations (clients refuse fewer)")),
  logLevel: z.preprocess(unsetIfEmpty, z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info")),
})
  .superRefine((c, ctx) => {
    const tls = c.securityProtocol === "SSL" || c.securityProtocol === "SASL_SSL";
    const sasl = c.securityProtocol.startsWith("SASL_");
    if (tls && (!c.sslCertFile || !c.sslKeyFile)) ctx.addIssue({ code: "custom", path: ["sslCertFile"], message: `${c.securityProtocol} needs --ssl-cert-file and --ssl-key-file` });
    if (!tls && (c.sslCertFile || c.sslKeyFile || c.sslClientAuth !== "none")) ctx.addIssue({ code: "custom", path: ["securityProtocol"], message: "TLS files or client auth are set but the security protocol has no TLS: use SSL or SASL_SSL" });
    if (c.sslClientAuth !== "none" && !c.sslCaFile) ctx.addIssue({ code: "custom", path: ["sslCaFile"], message: "--ssl-client-auth needs --ssl-ca-file (the CA client certificates must chain to)" });
    if (sasl && !c.saslUsersFile) ctx.addIssue({ code: "custom", path: ["saslUsersFile"], message: `${c.securityProtocol} needs --sasl-users-file` });
    if (!sasl && (c.saslUsersFile || c.saslMechanisms)) ctx.addIssue({ code: "custom", path: ["securityProtocol"], message: "SASL settings are set but the security protocol has no SASL: use SASL_PLAINTEXT or SASL_SSL" });
  })
  .transform((c) => ({
    ...c,
    saslMechanisms: c.saslMechanisms ?? (c.securityProtocol === "SASL_SSL" ? ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] : ["SCRAM-SHA-256", "SCRAM-SHA-512"]),
  }));
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
  connectionsMaxIdleMs: "BROKER_CONNECTIONS_MAX_IDLE_MS",
  requestReadTimeoutMs: "BROKER_REQUEST_READ_TIMEOUT_MS",
  authenticationTimeoutMs: "BROKER_AUTHENTICATION_TIMEOUT_MS",
  failedAuthenticationDelayMs: "BROKER_FAILED_AUTHENTICATION_DELAY_MS",
  securityProtocol: "BROKER_SECURITY_PROTOCOL",
  sslCertFile: "BROKER_SSL_CERT_FILE",
  sslKeyFile: "BROKER_SSL_KEY_FILE",
  sslCaFile: "BROKER_SSL_CA_FILE",
  sslClientAuth: "BROKER_SSL_CLIENT_AUTH",
  saslMechanisms: "BROKER_SASL_MECHANISMS",
  saslUsersFile: "BROKER_SASL_USERS_FILE",
  saslScramIterations: "BROKER_SASL_SCRAM_ITERATIONS",
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
