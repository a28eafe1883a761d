/**
 * The server Playwright tests run against: the production build (scripts/web-server.ts)
 * plus a worker, on a hermetic stack (fresh Postgres, Redis, ClickHouse and
 * embedded broker on free ports, in a temp dir removed on exit).
 * Started by playwright.config.ts's webServer; E2E_PORT picks the web port.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import getPort from "get-port";
import { startStack } from "./services/local-stack";
import { stopProcess } from "./services/process";

const root = fileURLToPath(new URL("..", import.meta.url));
const port = Number(process.env.E2E_PORT ?? 3200);

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "sluice-e2e-"));
  chmodSync(dir, 0o755);
  const secret = () => randomBytes(16).toString("hex");
  const stack = await startStack({
    root,
    dataDir: dir,
    ports: { postgres: await getPort(), redis: await getPort(), clickhouseHttp: await getPort(), clickhouseTcp: await getPort(), kafka: await getPort() },
    secrets: { postgresPassword: secret(), redisPassword: secret(), clickhousePassword: secret() },
    external: {},
    onLine: (svc, l) => process.env.E2E_VERBOSE && console.log(`[${svc}] ${l}`),
  });
  const env = {
    ...process.env,
    ...stack.env,
    NODE_ENV: "production" as const,
    NEXT_TELEMETRY_DISABLED: "1",
    SLUICE_URL: `http://127.0.0.1:${port}`,
    BETTER_AUTH_SECRET: randomBytes(32).toString("base64"),
    LOG_LEVEL: "warn",
    // The monitor e2e's webhook receiver listens on 127.0.0.1: private targets are an opt-in (docs/operations.md).
    SLUICE_WEBHOOK_ALLOW_PRIVATE: "true",
    // Every spec signs a new user up from 127.0.0.1, some 10–15 a run, less than a minute apart: better-auth
    // keeps counting while accepted attempts come less than a minute apart, so the default 10 would refuse the later specs' sign-ups.
    // (e2e/sign-in-limits.spec.ts checks the sign-in limit, which keeps its default.)
    SIGN_UP_RATE_LIMIT_PER_MINUTE: "1000",
    // Alert rules are evaluated every 2 s instead of 10 s, so the e2e sees them fire and resolve sooner.
    SLUICE_ALERT_EVALUATION_MS: "2000",
  };
  const web = spawn(process.execPath, ["--import", "tsx", join(root, "scripts/web-server.ts")], { cwd: root, env: { ...env, HOST: "127.0.0.1", PORT: String(port) }, stdio: "inherit" });
  const worker = spawn(process.execPath, ["--import", "tsx", join(root, "workers/task-worker.ts")], { cwd: root, env, stdio: "inherit" });
  console.log(`e2e stack ready; web on http://127.0.0.1:${port}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.all([stopProcess(web, 10_000), stopProcess(worker, 10_000)]);
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  web.on("exit", () => void stop());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
