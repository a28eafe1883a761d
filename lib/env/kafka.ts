import { z } from "zod";
import { parseEnv } from "./parse";

/**
 * TLS and SASL settings for every Kafka client Sluice creates (workers, web, preview,
 * tail, CLI, benchmarks). Production clusters (MSK, Confluent Cloud, most self-run
 * ones) require them; the embedded broker has neither unless it is started with them.
 */
const flag = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

export const kafkaSecurityEnvShape = {
  /** Connect over TLS. With no CA file the system's trusted CAs verify the brokers. */
  KAFKA_SSL: flag.default(false),
  /** PEM bundle of the CA(s) that signed the brokers' certificates (private CAs, self-signed clusters). */
  KAFKA_SSL_CA_FILE: z.string().optional(),
  /** PEM client certificate and key, for clusters that require mutual TLS. */
  KAFKA_SSL_CERT_FILE: z.string().optional(),
  KAFKA_SSL_KEY_FILE: z.string().optional(),
  KAFKA_SASL_MECHANISM: z
    .string()
    .transform((v) => v.toLowerCase())
    .pipe(z.enum(["plain", "scram-sha-256", "scram-sha-512"], { message: "must be plain, scram-sha-256 or scram-sha-512" }))
    .optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
};

const kafkaSecurityEnv = z.object(kafkaSecurityEnvShape).superRefine((e, ctx) => {
  const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if (e.KAFKA_SASL_MECHANISM && (!e.KAFKA_SASL_USERNAME || !e.KAFKA_SASL_PASSWORD)) {
    issue("KAFKA_SASL_MECHANISM", "needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD");
  }
  if (!e.KAFKA_SASL_MECHANISM && (e.KAFKA_SASL_USERNAME || e.KAFKA_SASL_PASSWORD)) {
    issue("KAFKA_SASL_USERNAME", "a SASL username/password is set but KAFKA_SASL_MECHANISM is not (plain, scram-sha-256 or scram-sha-512)");
  }
  if (!!e.KAFKA_SSL_CERT_FILE !== !!e.KAFKA_SSL_KEY_FILE) issue("KAFKA_SSL_CERT_FILE", "KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together");
  for (const name of ["KAFKA_SSL_CA_FILE", "KAFKA_SSL_CERT_FILE", "KAFKA_SSL_KEY_FILE"] as const) {
    if (e[name] && !e.KAFKA_SSL) issue(name, "is set but KAFKA_SSL is not true: set KAFKA_SSL=true to connect over TLS");
  }
});
export type KafkaSecurityEnv = z.infer<typeof kafkaSecurityEnv>;

/** The settings from `source`, cross-checked; a ConfigError names the variable and what to do. */
export function kafkaSecuritySettings(source: NodeJS.ProcessEnv = process.env): KafkaSecurityEnv {
  return parseEnv(kafkaSecurityEnv, source);
}

/** True when any KAFKA_SSL / KAFKA_SASL_* setting is in effect. */
export function kafkaSecured(source: NodeJS.ProcessEnv = process.env): boolean {
  const s = kafkaSecuritySettings(source);
  return s.KAFKA_SSL || !!s.KAFKA_SASL_MECHANISM;
}
