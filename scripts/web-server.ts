/**
 * The web process (`npm run web`; `npm start` and the e2e server run it):
 * Next.js's production server behind a plain Node HTTP server of our own.
 * Next gives route handlers no access to the TCP peer, so this server
 * resolves each request's client address from the socket (through
 * TRUSTED_PROXIES only) and hands it on in a header clients cannot set
 * (lib/auth/client-address.ts) — the sign-in rate limiter keys on it.
 * Listens on HOST (127.0.0.1 unless opened on purpose) and PORT.
 */
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import next from "next";
import { CLIENT_ADDRESS_HEADER, declareClientAddressResolved, resolveClientAddress, trustedProxies } from "@/lib/auth/client-address";
import { webEnv } from "@/lib/env/web";
import { moduleLogger } from "@/lib/log/logger";

const log = moduleLogger("web");

async function main() {
  const env = webEnv();
  const trust = trustedProxies(env.TRUSTED_PROXIES);
  const app = next({ dev: false, dir: fileURLToPath(new URL("..", import.meta.url)), hostname: env.HOST, port: env.PORT });
  const handle = app.getRequestHandler();
  await app.prepare();
  declareClientAddressResolved();

  const server = createServer((req, res) => {
    // Replaces whatever a client sent under this name.
    req.headers[CLIENT_ADDRESS_HEADER] = resolveClientAddress(req, trust);
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, "request failed");
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.listen(env.PORT, env.HOST, () => {
    log.info({ host: env.HOST, port: env.PORT, trustedProxies: env.TRUSTED_PROXIES ?? "none" }, `web app listening on http://${env.HOST.includes(":") ? `[${env.HOST}]` : env.HOST}:${env.PORT}`);
  });

  // Ordered shutdown: stop accepting, let requests in flight finish (SSE streams are ended), then exit.
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
      process.exit(0);
    }, 10_000).unref();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((err: unknown) => {
  log.fatal({ err }, "the web app could not start");
  process.exit(1);
});
