import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import getPort from "get-port";
import { randomBytes } from "node:crypto";
import { startStack, type Stack } from "../services/local-stack";

/**
 * Hermetic services for integration tests: Postgres, Redis, ClickHouse and the
 * embedded broker, on free ports, in a temp dir removed afterwards. Tests
 * isolate by creating their own teams and names, so one stack serves them all.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
let stack: Stack | undefined;
let dir: string | undefined;

export async function setup() {
  dir = mkdtempSync(join(tmpdir(), "sluice-test-"));
  // Postgres runs as the postgres user when we are root: it must reach its data dir.
  chmodSync(dir, 0o755);
  const secret = () => randomBytes(16).toString("hex");
  stack = await startStack({
    root,
    dataDir: dir,
    ports: {
      postgres: await getPort(),
      redis: await getPort(),
      clickhouseHttp: await getPort(),
      clickhouseTcp: await getPort(),
      kafka: await getPort(),
    },
    secrets: { postgresPassword: secret(), redisPassword: secret(), clickhousePassword: secret() },
    external: {},
  });
  Object.assign(process.env, {
    ...stack.env,
    SLUICE_URL: "http://localhost:3000",
    BETTER_AUTH_SECRET: randomBytes(32).toString("base64"),
    SLUICE_TEST_DATA_DIR: dir,
    LOG_LEVEL: "silent",
    // Running tasks re-check stream access this often (10 s in production).
    SLUICE_ACCESS_RECHECK_MS: "500",
  });
  if (!stack.env.KAFKA_BROKERS) delete process.env.KAFKA_BROKERS;
}

export async function teardown() {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
