import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { lookup as dnsLookup } from "node:dns";
import http from "node:http";
import https from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { AppError } from "@/lib/errors";

/**
 * Webhook channels: URL validation, SSRF protection, HMAC signing and the HTTP
 * request itself. A webhook URL is user input that the worker fetches from
 * inside the network, where Redis, ClickHouse, Postgres and cloud metadata
 * listen; so by default it may reach only public addresses. The check is made
 * on the address actually connected to (resolved once, then pinned), so a DNS
 * name that later resolves to 127.0.0.1 (rebinding) is refused too. Redirects
 * are not followed. SLUICE_WEBHOOK_ALLOW_PRIVATE=true lifts the address check
 * for installs whose receivers live on a private network.
 */

const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12], ["192.0.0.0", 24],
  ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) blocked.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["fec0::", 10], ["ff00::", 8], ["2001:db8::", 32], ["100::", 64], ["64:ff9b::", 96], ["2002::", 16]] as const) blocked.addSubnet(net, prefix, "ipv6");

/** True for loopback, private, link-local, shared, documentation, multicast and reserved addresses (IPv4-mapped IPv6 by its IPv4). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPrivateAddress(mapped[1]);
  const family = isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family === 6) return blocked.check(address, "ipv6");
  return true;
}

/** Scheme and host only: a webhook's path and query often carry a secret (Slack, Teams), so logs never show them. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return "(invalid URL)";
  }
}

const bareHost = (hostname: string) => hostname.replace(/^\[|\]$/g, "");

/** Validates a webhook URL as the user typed it; throws a 422 that says what to change. */
export function validateWebhookUrl(raw: string, opts: { allowPrivate: boolean }): string {
  const fail = (message: string) => new AppError("invalid_input", message, [{ path: ["url"], message }]);
  if (raw.length > 2_048) throw fail("The webhook URL is longer than 2,048 characters.");
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw fail("The webhook URL is not a valid URL (expected https://host/path).");
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw fail(`The webhook URL must use https:// (or http://), not ${u.protocol}//.`);
  if (u.username || u.password) throw fail("The webhook URL must not contain a user name or password: Sluice signs every delivery (X-Sluice-Signature), so verify that instead.");
  if (!u.hostname) throw fail("The webhook URL has no host.");
  const host = bareHost(u.hostname);
  if (!opts.allowPrivate && (isIP(host) ? isPrivateAddress(host) : /^localhost$|\.localhost$/i.test(host))) {
    throw fail(`The webhook URL points at a private or loopback address (${host}), which could reach Sluice's own services. An operator can allow private receivers with SLUICE_WEBHOOK_ALLOW_PRIVATE=true.`);
  }
  u.hash = "";
  return u.toString();
}

export const newWebhookSecret = () => `whsec_${randomBytes(32).toString("base64url")}`;

export const SIGNATURE_HEADER = "x-sluice-signature";

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` — the timestamp in the signed text stops replays. */
export function signPayload(secret: string, body: string, atSec = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac("sha256", secret).update(`${atSec}.${body}`).digest("hex");
  return `t=${atSec},v1=${mac}`;
}

/** For receivers (and tests): true when `header` signs `body` with `secret` and is at most `toleranceSec` old. */
export function verifySignature(secret: string, header: string | null | undefined, body: string, toleranceSec = 300, nowSec = Math.floor(Date.now() / 1000)): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(nowSec - t) > toleranceSec) return false;
  const expected = Buffer.from(createHmac("sha256", secret).update(`${t}.${body}`).digest("hex"));
  const given = Buffer.from(m[2]);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export class WebhookError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = "WebhookError";
  }
}

/** A lookup that refuses private addresses (unless allowed): what the socket connects to is what was checked. */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 0);
      const list = (addresses as { address: string; family: number }[]).filter((a) => allowPrivate || !isPrivateAddress(a.address));
      if (!list.length) return callback(Object.assign(new Error(`${hostname} resolves only to private or loopback addresses`), { code: "EPRIVATE" }), "", 0);
      if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      else callback(null, list[0].address, list[0].family);
    });
  };
}

export interface WebhookResult {
  status: number;
  ms: number;
}

/**
 * POSTs a JSON body, signed, to a webhook URL. Resolves on 2xx; throws a
 * WebhookError (never containing the URL's path or query) otherwise.
 */
export async function postWebhook(url: string, body: string, opts: { secret: string; headers?: Record<string, string>; allowPrivate: boolean; timeoutMs?: number }): Promise<WebhookResult> {
  const u = new URL(validateWebhookUrl(url, { allowPrivate: opts.allowPrivate }));
  const started = performance.now();
  const client = u.protocol === "https:" ? https : http;
  return new Promise<WebhookResult>((resolve, reject) => {
    const req = client.request(
      u,
      {
        method: "POST",
        lookup: guardedLookup(opts.allowPrivate),
        timeout: opts.timeoutMs ?? 10_000,
        headers: {
          "content-type": "application/json",
          "user-agent": "Sluice-Webhook/1",
          [SIGNATURE_HEADER]: signPayload(opts.secret, body),
          ...opts.headers,
        },
      },
      (res) => {
        let read = 0;
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          // Nothing in the answer is used: read a little, then let it go.
          if (read > 65_536) res.destroy();
        });
        res.on("error", () => {});
        res.on("close", () => {
          const status = res.statusCode ?? 0;
          const ms = Math.round(performance.now() - started);
          if (status >= 200 && status < 300) resolve({ status, ms });
          else if (status >= 300 && status < 400) reject(new WebhookError(`the receiver answered ${status} (a redirect): redirects are not followed, use the final URL`, status));
          else reject(new WebhookError(`the receiver answered ${status}`, status));
        });
      },
    );
    req.on("timeout", () => req.destroy(new WebhookError(`no answer within ${(opts.timeoutMs ?? 10_000) / 1000} s`)));
    req.on("error", (e: NodeJS.ErrnoException) => {
      if (e instanceof WebhookError) return reject(e);
      // Errors carry the host at most, never the path or query.
      reject(new WebhookError(e.code === "EPRIVATE" ? `${u.hostname} resolves only to private or loopback addresses (set SLUICE_WEBHOOK_ALLOW_PRIVATE=true to allow)` : `could not reach ${u.host}: ${e.code ?? e.message}`));
    });
    req.end(body);
  });
}
