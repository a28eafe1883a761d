import { Broker } from "./broker";
import { parseBrokerConfig } from "./config";
import { createLogger } from "./logger";
import { StartupError } from "./startup-error";

/**
 * `tsx broker/src/main.ts --port P --data-dir D`: runs in the foreground, prints a line
 * containing "listening" once clients can connect, exits 0 after a clean SIGTERM shutdown.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = parseBrokerConfig(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`broker: invalid configuration: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel);
  const broker = new Broker(config, log);
  try {
    await broker.start();
  } catch (err) {
    // Configuration and data-dir problems are the operator's to fix: the message, not a stack.
    if (err instanceof StartupError) {
      process.stderr.write(`broker: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const listening = `listening on ${config.host}:${broker.port} (${config.securityProtocol})`;
  log.info({ host: config.host, port: broker.port, dataDir: config.dataDir, fsync: config.fsync, securityProtocol: config.securityProtocol }, listening);
  // Also plain text, so a harness can match it regardless of the log level.
  if (!log.isLevelEnabled("info")) process.stdout.write(`${listening}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    broker.close().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`broker: failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
