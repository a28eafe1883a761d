import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { webEnvSchema } from "@/lib/env/web";
import { resolveClientAddress, trustedProxies } from "./client-address";

/**
 * The address the sign-in limiter keys on (issue 16, High 4): the socket's
 * peer unless TRUSTED_PROXIES lists it, never a client-sent X-Forwarded-For.
 * Real sockets on loopback: a client can connect from 127.0.0.2 as well.
 */
let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function seen(trust: string | undefined, opts: { from?: string; forwardedFor?: string }): Promise<string> {
  const check = trustedProxies(trust);
  server = createServer((req, res) => res.end(resolveClientAddress(req, check)));
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, localAddress: opts.from ?? "127.0.0.1", headers: opts.forwardedFor ? { "x-forwarded-for": opts.forwardedFor } : {} }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("client address", () => {
  it("is the socket's peer when no proxy is trusted, whatever X-Forwarded-For says", async () => {
    expect(await seen(undefined, { from: "127.0.0.2", forwardedFor: "203.0.113.7" })).toBe("127.0.0.2");
    expect(await seen("", { from: "127.0.0.3", forwardedFor: "203.0.113.7, 198.51.100.1" })).toBe("127.0.0.3");
  });

  it("walks X-Forwarded-For only through trusted proxies, from the right", async () => {
    expect(await seen("127.0.0.1", { forwardedFor: "203.0.113.7" })).toBe("203.0.113.7");
    // The client's own prefix of the header is not believed: the first untrusted hop from the right wins.
    expect(await seen("127.0.0.1,10.0.0.0/8", { forwardedFor: "1.2.3.4, 203.0.113.7, 10.1.2.3" })).toBe("203.0.113.7");
    expect(await seen("loopback", { from: "127.0.0.5", forwardedFor: "198.51.100.20" })).toBe("198.51.100.20");
  });

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", async () => {
    expect(await seen("10.0.0.0/8", { from: "127.0.0.4", forwardedFor: "203.0.113.7" })).toBe("127.0.0.4");
  });

  it("refuses a malformed TRUSTED_PROXIES at start-up, and binds the web app to loopback by default", () => {
    const base = { DATABASE_URL: "postgres://x@h/d", REDIS_URL: "redis://h", BETTER_AUTH_SECRET: "s".repeat(32) };
    expect(webEnvSchema.safeParse({ ...base, TRUSTED_PROXIES: "10.0.0.0/33" }).success).toBe(false);
    expect(webEnvSchema.safeParse({ ...base, TRUSTED_PROXIES: "10.0.0.0/8, loopback" }).success).toBe(true);
    expect(webEnvSchema.parse(base).HOST).toBe("127.0.0.1");
  });
});
