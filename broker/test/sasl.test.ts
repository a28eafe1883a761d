import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseBrokerConfig } from "../src/config";
import { SaslAuthenticationError, SaslUsers, ScramExchange, scramCredential } from "../src/security/sasl";

/** A SCRAM client as RFC 5802 §3 describes it, to drive the server from the other side. */
function scramClient(hash: "sha256" | "sha512", user: string, password: string, clientNonce = "fyko+d2lbbFgONRv9qkxdawL") {
  const bare = `n=${user.replace(/=/g, "=3D").replace(/,/g, "=2C")},r=${clientNonce}`;
  return {
    first: Buffer.from(`n,,${bare}`),
    final(serverFirst: string, nonceOverride?: string) {
      const attrs = Object.fromEntries(serverFirst.split(",").map((a) => [a[0], a.slice(2)]));
      const salted = pbkdf2Sync(password, Buffer.from(attrs.s, "base64"), Number(attrs.i), hash === "sha256" ? 32 : 64, hash);
      const clientKey = createHmac(hash, salted).update("Client Key").digest();
      const storedKey = createHash(hash).update(clientKey).digest();
      const withoutProof = `c=biws,r=${nonceOverride ?? attrs.r}`;
      const authMessage = `${bare},${serverFirst},${withoutProof}`;
      const signature = createHmac(hash, storedKey).update(authMessage).digest();
      const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
      const serverKey = createHmac(hash, salted).update("Server Key").digest();
      return {
        message: Buffer.from(`${withoutProof},p=${proof.toString("base64")}`),
        expectedServerFinal: `v=${createHmac(hash, serverKey).update(authMessage).digest("base64")}`,
      };
    },
  };
}

describe("SCRAM server (RFC 5802 / RFC 7677)", () => {
  it("reproduces RFC 7677's SCRAM-SHA-256 example exchange byte for byte", () => {
    const users = new SaslUsers({}, ["SCRAM-SHA-256"], 4096);
    // The example's stored credentials: salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations, password "pencil".
    const credential = scramCredential("SCRAM-SHA-256", "pencil", Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64"), 4096);
    users.scramCredential = () => ({ credential, known: true });
    const server = new ScramExchange(users, "SCRAM-SHA-256", () => "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    const first = server.step(Buffer.from("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"));
    expect(first.done).toBe(false);
    expect(first.challenge.toString()).toBe("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    const final = server.step(Buffer.from("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
    expect(final).toMatchObject({ done: true, principal: "user" });
    expect(final.challenge.toString()).toBe("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  });

  it.each(["SCRAM-SHA-256", "SCRAM-SHA-512"] as const)("%s: accepts the right password (names with , and =) and refuses a wrong one", (mechanism) => {
    const hash = mechanism === "SCRAM-SHA-256" ? "sha256" : "sha512";
    const users = new SaslUsers({ "ana,b=c": "right" }, [mechanism], 4096);
    const ok = users.exchange(mechanism);
    const client = scramClient(hash, "ana,b=c", "right");
    const { message, expectedServerFinal } = client.final(ok.step(client.first).challenge.toString());
    const done = ok.step(message);
    expect(done).toMatchObject({ done: true, principal: "ana,b=c" });
    expect(done.challenge.toString()).toBe(expectedServerFinal);

    const bad = users.exchange(mechanism);
    const wrong = scramClient(hash, "ana,b=c", "wrong");
    const serverFirst = bad.step(wrong.first).challenge.toString();
    expect(() => bad.step(wrong.final(serverFirst).message)).toThrow(/invalid username or password/);
  });

  it("answers an unknown user like a known one (same salt every time) and fails only at the proof", () => {
    const users = new SaslUsers({ known: "pw" }, ["SCRAM-SHA-256"], 4096);
    const first = (user: string) => users.exchange("SCRAM-SHA-256").step(scramClient("sha256", user, "pw").first).challenge.toString();
    const shape = (s: string) => s.replace(/r=[^,]*/, "r=").replace(/s=[^,]*/, "s=");
    expect(shape(first("ghost"))).toBe(shape(first("known")));
    expect(first("ghost").split(",")[1]).toBe(first("ghost").split(",")[1]);
    const ex = users.exchange("SCRAM-SHA-256");
    const c = scramClient("sha256", "ghost", "pw");
    const serverFirst = ex.step(c.first).challenge.toString();
    expect(() => ex.step(c.final(serverFirst).message)).toThrow(SaslAuthenticationError);
  });

  it("refuses a replayed or foreign nonce, channel binding, and a second exchange on one session", () => {
    const users = new SaslUsers({ u: "pw" }, ["SCRAM-SHA-256"], 4096);
    const ex = users.exchange("SCRAM-SHA-256");
    const c = scramClient("sha256", "u", "pw");
    const serverFirst = ex.step(c.first).challenge.toString();
    expect(() => ex.step(c.final(serverFirst, "fyko+d2lbbFgONRv9qkxdawLsomeoneelse").message)).toThrow(/invalid SASL/);
    expect(() => ex.step(Buffer.from("anything"))).toThrow(SaslAuthenticationError);
    expect(() => users.exchange("SCRAM-SHA-256").step(Buffer.from("p=tls-unique,,n=u,r=abc"))).toThrow(SaslAuthenticationError);
    expect(() => users.exchange("SCRAM-SHA-256").step(Buffer.from("n,,n=u=41,r=abc"))).toThrow(SaslAuthenticationError);
  });
});

describe("SASL/PLAIN (RFC 4616)", () => {
  const users = new SaslUsers({ ana: "pässword" }, ["PLAIN"], 4096);
  it("accepts authzid empty or equal to the user, and nothing else", () => {
    expect(users.exchange("PLAIN").step(Buffer.from("\0ana\0pässword"))).toMatchObject({ done: true, principal: "ana" });
    expect(users.exchange("PLAIN").step(Buffer.from("ana\0ana\0pässword"))).toMatchObject({ done: true, principal: "ana" });
    expect(() => users.exchange("PLAIN").step(Buffer.from("root\0ana\0pässword"))).toThrow(/authorization id/);
    expect(() => users.exchange("PLAIN").step(Buffer.from("\0ana\0password"))).toThrow(/invalid username or password/);
    expect(() => users.exchange("PLAIN").step(Buffer.from("\0bob\0pässword"))).toThrow(/invalid username or password/);
    expect(() => users.exchange("PLAIN").step(Buffer.from("ana-pässword"))).toThrow(/malformed/);
  });
});

describe("broker listener configuration", () => {
  const noEnv = {} as NodeJS.ProcessEnv;
  it("defaults to an unauthenticated listener on 127.0.0.1 with Kafka's idle timeout", () => {
    const c = parseBrokerConfig([], noEnv);
    expect(c).toMatchObject({ host: "127.0.0.1", securityProtocol: "PLAINTEXT", connectionsMaxIdleMs: 600_000, requestReadTimeoutMs: 30_000 });
  });

  it("requires what each protocol needs and refuses settings that would be silently ignored", () => {
    expect(() => parseBrokerConfig(["--security-protocol", "SASL_SSL"], noEnv)).toThrow(/ssl-cert-file[\s\S]*sasl-users-file|sasl-users-file[\s\S]*ssl-cert-file/);
    expect(() => parseBrokerConfig(["--sasl-users-file", "u.json"], noEnv)).toThrow(/no SASL/);
    expect(() => parseBrokerConfig(["--ssl-cert-file", "c.pem", "--ssl-key-file", "k.pem"], noEnv)).toThrow(/no TLS/);
    expect(() => parseBrokerConfig(["--security-protocol", "SSL", "--ssl-cert-file", "c", "--ssl-key-file", "k", "--ssl-client-auth", "required"], noEnv)).toThrow(/ssl-ca-file/);
    expect(() => parseBrokerConfig(["--security-protocol", "SASL_PLAINTEXT", "--sasl-users-file", "u", "--sasl-mechanisms", "GSSAPI"], noEnv)).toThrow();
    expect(() => parseBrokerConfig(["--security-protocol", "SASL_PLAINTEXT", "--sasl-users-file", "u", "--sasl-scram-iterations", "100"], noEnv)).toThrow(/4096/);
  });

  it("enables PLAIN by default only where TLS protects the password", () => {
    expect(parseBrokerConfig(["--security-protocol", "SASL_PLAINTEXT", "--sasl-users-file", "u"], noEnv).saslMechanisms).toEqual(["SCRAM-SHA-256", "SCRAM-SHA-512"]);
    expect(parseBrokerConfig([], { BROKER_SECURITY_PROTOCOL: "SASL_SSL", BROKER_SSL_CERT_FILE: "c", BROKER_SSL_KEY_FILE: "k", BROKER_SASL_USERS_FILE: "u" } as unknown as NodeJS.ProcessEnv).saslMechanisms).toEqual([
      "PLAIN",
      "SCRAM-SHA-256",
      "SCRAM-SHA-512",
    ]);
    expect(parseBrokerConfig(["--security-protocol", "SASL_PLAINTEXT", "--sasl-users-file", "u", "--sasl-mechanisms", "plain, scram-sha-512"], noEnv).saslMechanisms).toEqual(["PLAIN", "SCRAM-SHA-512"]);
  });
});
