import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded } from "kafkajs";
import { describe, expect, it } from "vitest";
import { kafkaSecuritySettings } from "@/lib/env/kafka";
import { explainKafkaConnectionError, kafkaClientSecurity, kafkaSecurityVariables } from "./security";

const env = (vars: Record<string, string>) => vars as unknown as NodeJS.ProcessEnv;

describe("KAFKA_SSL / KAFKA_SASL_* settings", () => {
  it("are off unless set, and turn into kafkajs ssl/sasl options that always verify certificates", () => {
    expect(kafkaClientSecurity(env({}))).toEqual({});
    const dir = mkdtempSync(join(tmpdir(), "kafka-security-test-"));
    for (const f of ["ca.pem", "cert.pem", "key.pem"]) writeFileSync(join(dir, f), `-----${f}-----`);
    const opts = kafkaClientSecurity(
      env({
        KAFKA_SSL: "true",
        KAFKA_SSL_CA_FILE: join(dir, "ca.pem"),
        KAFKA_SSL_CERT_FILE: join(dir, "cert.pem"),
        KAFKA_SSL_KEY_FILE: join(dir, "key.pem"),
        KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
        KAFKA_SASL_USERNAME: "sluice",
        KAFKA_SASL_PASSWORD: "pw",
      }),
    );
    expect(opts).toEqual({
      ssl: { rejectUnauthorized: true, ca: ["-----ca.pem-----"], cert: "-----cert.pem-----", key: "-----key.pem-----" },
      sasl: { mechanism: "scram-sha-512", username: "sluice", password: "pw" },
    });
    expect(kafkaClientSecurity(env({ KAFKA_SSL: "true" }))).toEqual({ ssl: { rejectUnauthorized: true } });
  });

  it("refuse inconsistent combinations at start, naming the variable", () => {
    const bad = (vars: Record<string, string>, message: RegExp) => expect(() => kafkaSecuritySettings(env(vars))).toThrow(message);
    bad({ KAFKA_SASL_MECHANISM: "plain" }, /KAFKA_SASL_MECHANISM: needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
    bad({ KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p" }, /KAFKA_SASL_MECHANISM is not/);
    bad({ KAFKA_SASL_MECHANISM: "gssapi", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p" }, /plain, scram-sha-256 or scram-sha-512/);
    bad({ KAFKA_SSL: "true", KAFKA_SSL_CERT_FILE: "c.pem" }, /KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together/);
    bad({ KAFKA_SSL_CA_FILE: "ca.pem" }, /KAFKA_SSL_CA_FILE: is set but KAFKA_SSL is not true/);
    bad({ KAFKA_SSL: "maybe" }, /KAFKA_SSL: must be true or false/);
    expect(() => kafkaClientSecurity(env({ KAFKA_SSL: "true", KAFKA_SSL_CA_FILE: "/nonexistent/ca.pem" }))).toThrow(/KAFKA_SSL_CA_FILE=\/nonexistent\/ca.pem cannot be read \(ENOENT\)/);
  });

  it("are passed on (to .data/sluice.env) exactly as set", () => {
    expect(kafkaSecurityVariables(env({ KAFKA_SSL: "true", KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p", OTHER: "x" }))).toEqual({
      KAFKA_SSL: "true",
      KAFKA_SASL_MECHANISM: "plain",
      KAFKA_SASL_USERNAME: "u",
      KAFKA_SASL_PASSWORD: "p",
    });
  });
});

describe("explainKafkaConnectionError", () => {
  it("names the setting to check for refused credentials, TLS failures and unreachable brokers", () => {
    const auth = explainKafkaConnectionError(Object.assign(new Error("SASL SCRAM SHA512 authentication failed: Authentication failed: invalid username or password"), { name: "KafkaJSSASLAuthenticationError" }), env({}));
    expect(auth?.summary).toBe("Kafka refused Sluice's credentials");
    expect(auth?.message).toMatch(/invalid username or password.*KAFKA_SASL_PASSWORD/);
    const tls = explainKafkaConnectionError(new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError("Connection error: self-signed certificate in certificate chain"), { retryCount: 1, retryTime: 10 }), env({ KAFKA_SSL: "true" }));
    expect(tls?.hint).toMatch(/KAFKA_SSL_CA_FILE/);
    const down = explainKafkaConnectionError(new KafkaJSConnectionError("Connection error: connect ECONNREFUSED 10.0.0.1:9092"), env({}));
    expect(down?.summary).toBe("Sluice cannot reach Kafka");
    expect(down?.summary).not.toContain("10.0.0.1");
    expect(down?.hint).toMatch(/set KAFKA_SSL \/ KAFKA_SASL_MECHANISM/);
    expect(explainKafkaConnectionError(new Error("something else"))).toBeNull();
  });
});
