import { lookup } from "node:dns/promises";
import { createServer, type Server } from "node:http";
import { hostname } from "node:os";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPrivateAddress, newWebhookSecret, postWebhook, redactUrl, signPayload, validateWebhookUrl, verifySignature } from "./webhook";

describe("webhook URLs", () => {
  it("classifies private, loopback, link-local and mapped addresses", () => {
    for (const a of ["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "224.0.0.1"]) expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]) expect(isPrivateAddress(a), a).toBe(false);
    expect(isPrivateAddress("not-an-ip")).toBe(true);
  });

  it("accepts http(s) URLs to public hosts and says what is wrong with the others", () => {
    expect(validateWebhookUrl("https://hooks.example.com/T0/abc?x=1#frag", { allowPrivate: false })).toBe("https://hooks.example.com/T0/abc?x=1");
    expect(() => validateWebhookUrl("ftp://example.com/x", { allowPrivate: false })).toThrow(/https:\/\//);
    expect(() => validateWebhookUrl("https://user:pw@example.com/x", { allowPrivate: false })).toThrow(/must not contain a user name or password/);
    expect(() => validateWebhookUrl("not a url", { allowPrivate: false })).toThrow(/not a valid URL/);
    for (const u of ["http://127.0.0.1:6379/", "http://[::1]:8123/", "http://169.254.169.254/latest/meta-data", "http://localhost:5432", "http://redis.localhost/"]) {
      expect(() => validateWebhookUrl(u, { allowPrivate: false }), u).toThrow(/private or loopback address.*SLUICE_WEBHOOK_ALLOW_PRIVATE=true/);
    }
    expect(validateWebhookUrl("http://127.0.0.1:9000/hook", { allowPrivate: true })).toBe("http://127.0.0.1:9000/hook");
  });

  it("never shows a URL's path or query in logs", () => {
    expect(redactUrl("https://hooks.slack.com/services/T000/B000/SECRET?token=abc")).toBe("https://hooks.slack.com/…");
  });

  it("signs with HMAC-SHA256 over the timestamp and body, and verifies", () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const header = signPayload(secret, '{"a":1}', 1_700_000_000);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature(secret, header, '{"a":1}', 300, 1_700_000_100)).toBe(true);
    expect(verifySignature(secret, header, '{"a":2}', 300, 1_700_000_100)).toBe(false);
    expect(verifySignature("whsec_other", header, '{"a":1}', 300, 1_700_000_100)).toBe(false);
    expect(verifySignature(secret, header, '{"a":1}', 300, 1_700_001_000)).toBe(false); // replayed too late
  });
});

describe("webhook delivery", () => {
  let server: Server;
  let port: number;
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  let answer = 200;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        if (answer === 302) res.writeHead(302, { location: "http://127.0.0.1:1/elsewhere" });
        else res.writeHead(answer);
        res.end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("refuses a loopback receiver unless private receivers are allowed, by literal address and by name", async () => {
    const secret = newWebhookSecret();
    await expect(postWebhook(`http://127.0.0.1:${port}/hook`, "{}", { secret, allowPrivate: false })).rejects.toThrow(/private or loopback/);
    // A DNS name is checked on what it resolves to: this machine's own name resolves to a loopback address.
    const name = hostname();
    expect(isPrivateAddress((await lookup(name)).address)).toBe(true);
    await expect(postWebhook(`http://${name}:${port}/hook`, "{}", { secret, allowPrivate: false })).rejects.toThrow(/resolves only to private or loopback addresses/);
    expect(received).toHaveLength(0);
  });

  it("delivers a signed body, and fails on non-2xx and on redirects without following them", async () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ state: "firing" });
    const r = await postWebhook(`http://127.0.0.1:${port}/hook?token=abc`, body, { secret, allowPrivate: true, headers: { "x-sluice-delivery": "d1" } });
    expect(r.status).toBe(200);
    const got = received.at(-1)!;
    expect(got.body).toBe(body);
    expect(got.headers["x-sluice-delivery"]).toBe("d1");
    expect(verifySignature(secret, got.headers["x-sluice-signature"] as string, got.body)).toBe(true);
    answer = 500;
    await expect(postWebhook(`http://127.0.0.1:${port}/hook`, body, { secret, allowPrivate: true })).rejects.toThrow("the receiver answered 500");
    answer = 302;
    const n = received.length;
    await expect(postWebhook(`http://127.0.0.1:${port}/hook`, body, { secret, allowPrivate: true })).rejects.toThrow(/redirects are not followed/);
    expect(received.length).toBe(n + 1);
    answer = 200;
  });
});
