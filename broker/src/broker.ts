import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import tls from "node:tls";
import type { Logger } from "pino";
import type { BrokerConfig } from "./config";
import { GroupCoordinator } from "./group/coordinator";
import { OffsetStore } from "./group/offset-store";
import { adminHandlers } from "./handlers/admin";
import { dataHandlers } from "./handlers/data";
import { groupHandlers } from "./handlers/groups";
import { transactionHandlers } from "./handlers/transactions";
import { SaslUsers } from "./security/sasl";
import { ProtocolServer, type ServerOptions } from "./server";
import { StartupError } from "./startup-error";
import { compactLog } from "./storage/compaction";
import { type DataDirLock, lockDataDir, mkdirPrivate, restrictDataDir } from "./storage/data-dir";
import { Durability } from "./storage/durability";
import { InternalTopic } from "./storage/internal-topic";
import { LogManager, type TopicState } from "./storage/log-manager";
import { writeFileDurable } from "./storage/segment";
import { TransactionCoordinator } from "./txn/coordinator";

export const OFFSETS_TOPIC = "__consumer_offsets";
export const TXN_STATE_TOPIC = "__transaction_state";
const INTERNAL_CONFIG = { "cleanup.policy": "compact", "segment.bytes": String(64 << 20) };

/** TLS material and SASL users of the listener, read once at start; a bad file fails the start with its name. */
function listenerSecurity(config: BrokerConfig, log: Logger): Pick<ServerOptions, "tls" | "sasl"> {
  const read = (what: string, file: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new StartupError(`cannot read the ${what} ${file}: ${(err as Error).message}`);
    }
  };
  let tlsOptions: ServerOptions["tls"] = null;
  if (config.securityProtocol === "SSL" || config.securityProtocol === "SASL_SSL") {
    tlsOptions = {
      cert: read("TLS certificate (--ssl-cert-file)", config.sslCertFile!),
      key: read("TLS private key (--ssl-key-file)", config.sslKeyFile!),
      minVersion: "TLSv1.2",
      requestCert: config.sslClientAuth !== "none",
      rejectUnauthorized: config.sslClientAuth === "required",
      ...(config.sslCaFile ? { ca: read("TLS CA bundle (--ssl-ca-file)", config.sslCaFile) } : {}),
    };
    // Fails now, with the file names, rather than at the first client.
    try {
      tls.createSecureContext(tlsOptions);
    } catch (err) {
      throw new StartupError(`the TLS certificate/key (${config.sslCertFile}, ${config.sslKeyFile}) are not usable: ${(err as Error).message}`);
    }
  }
  let sasl: ServerOptions["sasl"] = null;
  if (config.securityProtocol === "SASL_PLAINTEXT" || config.securityProtocol === "SASL_SSL") {
    const file = config.saslUsersFile!;
    if (fs.existsSync(file) && (fs.statSync(file).mode & 0o077) !== 0) {
      log.warn({ file }, "the SASL users file is readable by other users: chmod 600 it");
    }
    if (config.securityProtocol === "SASL_PLAINTEXT" && config.saslMechanisms.includes("PLAIN")) {
      log.warn("SASL/PLAIN without TLS sends passwords in clear text: use SASL_SSL, or SCRAM only");
    }
    sasl = { users: SaslUsers.fromFile(file, config.saslMechanisms, config.saslScramIterations), mechanisms: config.saslMechanisms };
  }
  return { tls: tlsOptions, sasl };
}

/** Wires storage, coordinators and the protocol server of one broker process. */
export class Broker {
  readonly logs: LogManager;
  readonly durability: Durability;
  groups!: GroupCoordinator;
  txns!: TransactionCoordinator;
  clusterId = "";
  port = 0;
  closing = false;
  private markClosed: () => void = () => undefined;
  /** Resolves when shutdown starts: long-polling fetches return early. */
  readonly closed = new Promise<void>((r) => (this.markClosed = r));
  private server: ProtocolServer | null = null;
  private maintenance: NodeJS.Timeout | null = null;
  private lock: DataDirLock | null = null;

  constructor(
    readonly config: BrokerConfig,
    readonly log: Logger,
  ) {
    this.durability = new Durability(config.fsync, config.fsyncIntervalMs, (err) => {
      log.fatal({ err }, "fsync failed: stopping so that nothing unsynced is ever acknowledged");
      process.exit(3);
    });
    this.logs = new LogManager(path.resolve(config.dataDir), this.durability, log);
  }

  get advertisedHost(): string {
    if (this.config.advertisedHost) return this.config.advertisedHost;
    return this.config.host === "0.0.0.0" || this.config.host === "::" ? "localhost" : this.config.host;
  }

  async start(): Promise<void> {
    // Bad TLS or SASL files fail the start before the (possibly long) log recovery.
    const security = listenerSecurity(this.config, this.log);
    const dir = path.resolve(this.config.dataDir);
    mkdirPrivate(dir);
    this.lock = lockDataDir(dir);
    const tightened = restrictDataDir(dir);
    if (tightened > 0) this.log.warn({ dataDir: dir, entries: tightened }, "data dir was readable by other users: made its files 0600 and directories 0700");
    const idFile = path.join(dir, "cluster-id");
    if (!fs.existsSync(idFile)) writeFileDurable(idFile, randomUUID());
    this.clusterId = fs.readFileSync(idFile, "utf8").trim();

    await this.logs.load();
    const internal = async (name: string) =>
      this.logs.get(name) ?? (await this.logs.create(name, 1, INTERNAL_CONFIG, true));
    const offsetsTopic = new InternalTopic((await internal(OFFSETS_TOPIC)).partitions[0]);
    const txnTopic = new InternalTopic((await internal(TXN_STATE_TOPIC)).partitions[0]);
    const offsets = new OffsetStore(offsetsTopic);
    await offsets.load();
    this.groups = new GroupCoordinator(
      offsets,
      {
        minSessionTimeoutMs: this.config.groupMinSessionTimeoutMs,
        maxSessionTimeoutMs: this.config.groupMaxSessionTimeoutMs,
        initialRebalanceDelayMs: this.config.groupInitialRebalanceDelayMs,
      },
      this.log.child({ module: "group" }),
    );
    this.txns = new TransactionCoordinator(
      txnTopic,
      this.logs,
      offsets,
      { maxTimeoutMs: this.config.transactionMaxTimeoutMs },
      this.log.child({ module: "txn" }),
    );
    await this.txns.load();

    this.server = new ProtocolServer(
      [...dataHandlers(this), ...groupHandlers(this), ...adminHandlers(this), ...transactionHandlers(this)],
      this.log.child({ module: "server" }),
      {
        maxRequestBytes: this.config.maxRequestBytes,
        connectionsMaxIdleMs: this.config.connectionsMaxIdleMs,
        requestReadTimeoutMs: this.config.requestReadTimeoutMs,
        authenticationTimeoutMs: this.config.authenticationTimeoutMs,
        failedAuthenticationDelayMs: this.config.failedAuthenticationDelayMs,
        ...security,
      },
    );
    this.port = await this.server.listen(this.config.host, this.config.port);
    this.maintenance = setInterval(() => void this.runMaintenance(), this.config.cleanerIntervalMs);
    this.maintenance.unref();
  }

  /** Retention for delete topics, compaction for compact topics. */
  async runMaintenance(): Promise<void> {
    for (const p of this.logs.allPartitions()) {
      try {
        p.enforceRetention();
        if (p.config.compact) await compactLog(p, this.log);
      } catch (err) {
        this.log.error({ err, topic: p.topic, partition: p.partition }, "log maintenance failed");
      }
    }
  }

  async autoCreate(name: string): Promise<TopicState | undefined> {
    try {
      return await this.logs.create(name, this.config.defaultPartitions, {});
    } catch {
      return this.logs.get(name);
    }
  }

  brokerConfigs(): Record<string, string> {
    return {
      "broker.id": String(this.config.nodeId),
      "log.dirs": path.resolve(this.config.dataDir),
      "auto.create.topics.enable": String(this.config.autoCreateTopics),
      "num.partitions": String(this.config.defaultPartitions),
      "log.flush.policy": this.config.fsync,
      "default.replication.factor": "1",
      "transaction.max.timeout.ms": String(this.config.transactionMaxTimeoutMs),
    };
  }

  /** Clean shutdown: stop accepting, release long polls, flush, close files. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.markClosed();
    if (this.maintenance) clearInterval(this.maintenance);
    this.groups?.close();
    this.txns?.close();
    await this.server?.close();
    await this.durability.close();
    this.logs.close();
    this.lock?.release();
  }
}
