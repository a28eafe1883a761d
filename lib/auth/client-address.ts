import type { IncomingMessage } from "node:http";
import proxyaddr from "proxy-addr";

/**
 * The client address the sign-in rate limiter keys on, and how it gets there.
 *
 * A Next.js route handler cannot see the TCP peer: Next copies the socket's
 * address into `X-Forwarded-For` only when the client did not send that header
 * itself, so an address taken from it is whatever the client chose. Sluice's
 * web server (scripts/web-server.ts) sits in front of Next in the same
 * process: it resolves the address from the socket — walking `X-Forwarded-For`
 * only through peers listed in TRUSTED_PROXIES — and writes it into
 * CLIENT_ADDRESS_HEADER, replacing anything a client sent under that name.
 * Where that server is not in front (`next dev`, a bare `next start`) the
 * header is not trusted at all.
 */
export const CLIENT_ADDRESS_HEADER = "x-sluice-client-address";

const SERVED = Symbol.for("sluice.web-server.resolves-client-address");
type Marked = { [SERVED]?: boolean };

/** Called once by the web server (and by tests, which stand where it stands) before requests arrive. */
export function declareClientAddressResolved(): void {
  (globalThis as Marked)[SERVED] = true;
}

/** True when this process's requests come through the web server that sets CLIENT_ADDRESS_HEADER. */
export function clientAddressResolved(): boolean {
  return (globalThis as Marked)[SERVED] === true;
}

/**
 * Parses TRUSTED_PROXIES: comma-separated IPs, CIDR ranges, or the names
 * `loopback`, `linklocal`, `uniquelocal` (proxy-addr's). Empty trusts no one,
 * so `X-Forwarded-For` is ignored. Throws on a malformed entry.
 */
export function trustedProxies(setting: string | undefined): (address: string, hop: number) => boolean {
  const list = (setting ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  return proxyaddr.compile(list);
}

/** The address a request comes from: the socket's peer, or through trusted proxies the first untrusted hop. */
export function resolveClientAddress(req: IncomingMessage, trust: (address: string, hop: number) => boolean): string {
  return proxyaddr(req, trust);
}

/**
 * The request as better-auth should see it: with CLIENT_ADDRESS_HEADER only
 * when the web server set it, so a client can never choose its own address.
 */
export function withTrustedClientAddress(req: Request): Request {
  if (clientAddressResolved() || !req.headers.has(CLIENT_ADDRESS_HEADER)) return req;
  const headers = new Headers(req.headers);
  headers.delete(CLIENT_ADDRESS_HEADER);
  return new Request(req, { headers });
}
