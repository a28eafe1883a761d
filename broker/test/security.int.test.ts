import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBatch } from "../src/protocol/record-batch";
import { Writer } from "../src/protocol/writer";
import { BrokerProcess, PLAINTEXT, TEST_USER, kafka, kcat } from "./harness";
import { WireClient, produceBatch } from "./wire";

/**
 * What the TLS and SASL listeners refuse. (What they serve is the whole conformance
 * suite, which produce-consume.int.test.ts runs through every kind of listener.)
 */
let sasl: BrokerProcess;
let scramOnly: BrokerProcess;
let mtls: BrokerProcess;
let plain: BrokerProcess;

beforeAll(async () => {
  [sasl, scramOnly, mtls, plain] = await Promise.all([
    BrokerProcess.start(["--authentication-timeout-ms", "1500"], { name: "SASL_SSL", protocol: "SASL_SSL", mechanism: "SCRAM-SHA-256" }),
    BrokerProcess.start(["--sasl-mechanisms", "SCRAM-SHA-256,SCRAM-SHA-512"], { name: "SASL_PLAINTEXT", protocol: "SASL_PLAINTEXT", mechanism: "SCRAM-SHA-512" }),
    BrokerProcess.start([], { name: "mTLS", protocol: "SSL", clientCert: true }),
    BrokerProcess.start([], PLAINTEXT),
  ]);
});
afterAll(async () => {
  await Promise.all([sasl, scramOnly, mtls, plain].map((b) => b?.destroy()));
});

/** Runs `fn` and returns the error it rejects with (the test fails if it resolves), and how long that took. */
async function failure(fn: () => Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const started = Date.now();
  try {
    await fn();
  } catch (error) {
    return { error: error as Error, ms: Date.now() - started };
  }
  throw new Error("expected a failure, but it succeeded");
}

const connectAdmin = async (b: BrokerProcess, overrides: Parameters<typeof kafka>[2] = {}) => {
  const admin = kafka(b, "security-test", { retry: { retries: 1, initialRetryTime: 100 }, connectionTimeout: 3_000, ...overrides }).admin();
  try {
    await admin.connect();
    return await admin.listTopics();
  } finally {
    await admin.disconnect().catch(() => {});
  }
};

describe("a SASL listener", () => {
  it("answers only ApiVersions before authentication and closes on any other request", async () => {
    const topic = "sec-unauth";
    const admin = kafka(sasl).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });

    const anon = await WireClient.connect(sasl, { authenticate: false });
    const versions = await anon.request(18, 2, () => undefined);
    expect(versions.int16()).toBe(0);
    const apis = versions.array((r) => ({ key: r.int16(), min: r.int16(), max: r.int16() }));
    expect(apis).toContainEqual({ key: 17, min: 0, max: 1 });
    expect(apis).toContainEqual({ key: 36, min: 0, max: 1 });
    // Metadata: no answer, the connection closes.
    void anon.request(3, 1, (w) => w.int32(-1)).catch(() => undefined);
    expect(await anon.waitClosed()).toBe(true);

    // A produce and a topic creation without logging in change nothing.
    const producer = await WireClient.connect(sasl, { authenticate: false });
    void produceBatch(producer, topic, 0, buildBatch({ baseOffset: 0, records: [{ key: null, value: Buffer.from("anonymous"), timestamp: Date.now() }] })).catch(() => undefined);
    expect(await producer.waitClosed()).toBe(true);
    const creator = await WireClient.connect(sasl, { authenticate: false });
    void creator.request(19, 0, (w) => w.int32(1).string("sec-anon-topic").int32(1).int16(1).int32(0).int32(0).int32(5_000)).catch(() => undefined);
    expect(await creator.waitClosed()).toBe(true);

    expect(await admin.fetchTopicOffsets(topic)).toEqual([expect.objectContaining({ partition: 0, high: "0" })]);
    expect(await admin.listTopics()).not.toContain("sec-anon-topic");
    await admin.disconnect();
  });

  it.each(["plain", "scram-sha-256", "scram-sha-512"] as const)("refuses a wrong password (%s) with a clear error at once, and an unknown user the same way", async (mechanism) => {
    for (const creds of [{ username: TEST_USER.username, password: "not the password" }, { username: "nobody", password: TEST_USER.password }]) {
      const { error, ms } = await failure(() => connectAdmin(sasl, { sasl: { mechanism, ...creds } as never }));
      expect(error.name).toBe("KafkaJSSASLAuthenticationError");
      expect(error.message).toMatch(/Authentication failed: invalid username or password/);
      // Not retried for minutes, not hung: the broker answers after its 100 ms failure delay.
      expect(ms).toBeLessThan(10_000);
    }
  });

  it("makes kcat (librdkafka) fail with the broker's message on a wrong password", async () => {
    const args = sasl.kcatArgs().map((a) => (a.startsWith("sasl.password=") ? "sasl.password=wrong" : a));
    const { error } = await failure(() => kcat([...args, "-L"], undefined, 20_000));
    expect(error.message).toMatch(/Authentication failed: invalid username or password/);
  });

  it("answers a failed login with SASL_AUTHENTICATION_FAILED and then closes the connection", async () => {
    const c = await WireClient.connect(sasl, { authenticate: false });
    expect(await c.saslPlain(TEST_USER.username, "wrong")).toEqual({ handshake: 0, authenticate: 58, message: expect.stringMatching(/invalid username or password/) });
    expect(await c.waitClosed()).toBe(true);
  });

  it("supports the bare-token exchange after a v0 SaslHandshake (what old clients and librdkafka's feature check expect)", async () => {
    const c = await WireClient.connect(sasl, { authenticate: false });
    const hs = await c.request(17, 0, (w) => w.string("PLAIN"));
    expect(hs.int16()).toBe(0);
    expect(hs.array((r) => r.string())).toEqual(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]);
    expect((await c.exchangeToken(Buffer.from(`\0${TEST_USER.username}\0${TEST_USER.password}`))).length).toBe(0);
    const meta = await c.request(3, 1, (w) => w.int32(-1));
    expect(meta.array((r) => ({ id: r.int32(), host: r.string(), port: r.int32(), rack: r.nullableString() }))).toEqual([{ id: 0, host: "127.0.0.1", port: sasl.port, rack: null }]);
    c.close();

    const bad = await WireClient.connect(sasl, { authenticate: false });
    expect((await bad.request(17, 0, (w) => w.string("PLAIN"))).int16()).toBe(0);
    bad.sendRaw(Buffer.from([0, 0, 0, 7, 0, 0x78, 0, 0x79, 0x79, 0x79, 0x79]));
    expect(await bad.waitClosed()).toBe(true);
  });

  it("closes a connection that does not authenticate in time or sends a large frame before logging in", async () => {
    const idle = await WireClient.connect(sasl, { authenticate: false });
    expect((await idle.request(18, 0, () => undefined)).int16()).toBe(0);
    expect(await idle.waitClosed(5_000)).toBe(true);

    const big = await WireClient.connect(sasl, { authenticate: false });
    const header = Buffer.alloc(4);
    header.writeInt32BE(1 << 20, 0);
    big.sendRaw(header);
    expect(await big.waitClosed(1_000)).toBe(true);
  });

  it("names the mechanisms it has when asked for one it does not", async () => {
    const { error } = await failure(() => connectAdmin(scramOnly, { sasl: { mechanism: "plain", ...TEST_USER } }));
    expect(error.message).toMatch(/SASL mechanism|does not support the requested SASL mechanism/);
    const c = await WireClient.connect(scramOnly, { authenticate: false });
    expect(await c.saslPlain(TEST_USER.username, TEST_USER.password)).toMatchObject({ handshake: 33 });
    c.close();
  });
});

describe("TLS listeners", () => {
  it("refuse plaintext clients and clients that do not trust the broker's CA, without hanging", async () => {
    const plainClient = await failure(() => connectAdmin(sasl, { ssl: false }));
    expect(plainClient.ms).toBeLessThan(20_000);
    const untrusting = await failure(() => connectAdmin(sasl, { ssl: true }));
    expect(untrusting.error.message).toMatch(/self[- ]signed|unable to verify|certificate/i);
  });

  it("with client authentication required, refuse clients without a certificate or with one from another CA", async () => {
    const ca = mtls.pki!.read(mtls.pki!.caFile);
    const none = await failure(() => connectAdmin(mtls, { ssl: { ca: [ca] } }));
    expect(none.ms).toBeLessThan(20_000);
    const rogue = await failure(() => connectAdmin(mtls, { ssl: { ca: [ca], cert: mtls.pki!.read(mtls.pki!.rogueCertFile), key: mtls.pki!.read(mtls.pki!.rogueKeyFile) } }));
    expect(rogue.ms).toBeLessThan(20_000);
    await mtls.waitForOutput(/TLS handshake failed/, "the TLS handshake log line");
    expect(await connectAdmin(mtls)).toEqual(expect.any(Array));
  });
});

describe("a plaintext listener", () => {
  it("tells a client configured for SASL that the mechanism is not supported, and refuses TLS clients", async () => {
    const { error } = await failure(() => connectAdmin(plain, { sasl: { mechanism: "scram-sha-256", ...TEST_USER } }));
    expect(error.message).toMatch(/SASL mechanism|does not support the requested SASL mechanism/);
    const tlsClient = await failure(() => connectAdmin(plain, { ssl: true }));
    expect(tlsClient.ms).toBeLessThan(20_000);
  });
});

describe("security configuration", () => {
  it("fails to start with the file's name when a key, certificate or users file is missing or malformed", async () => {
    const pki = sasl.pki!;
    const missingKey = await failure(() =>
      BrokerProcess.start(["--security-protocol", "SSL", "--ssl-cert-file", pki.serverCertFile, "--ssl-key-file", join(pki.dir, "nope.key")]),
    );
    expect(missingKey.error.message).toMatch(/exited with 1[\s\S]*cannot read the TLS private key \(--ssl-key-file\) .*nope\.key/);
    const swapped = await failure(() => BrokerProcess.start(["--security-protocol", "SSL", "--ssl-cert-file", pki.serverCertFile, "--ssl-key-file", pki.clientKeyFile]));
    expect(swapped.error.message).toMatch(/not usable/);
    const users = join(pki.dir, "bad-users.json");
    writeFileSync(users, JSON.stringify({ users: { ana: "" } }), { mode: 0o600 });
    const badUsers = await failure(() => BrokerProcess.start(["--security-protocol", "SASL_PLAINTEXT", "--sasl-users-file", users]));
    expect(badUsers.error.message).toMatch(/SASL users file .*bad-users\.json.*empty passwords/);
  });
});
