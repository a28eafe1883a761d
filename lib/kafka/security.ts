import { readFileSync } from "node:fs";
import type { KafkaConfig, SASLOptions } from "kafkajs";
import { kafkaSecured, kafkaSecurityEnvShape, kafkaSecuritySettings } from "@/lib/env/kafka";
import { ConfigError } from "@/lib/env/parse";

/**
 * Turns the KAFKA_SSL* / KAFKA_SASL_* settings (lib/env/kafka.ts) into kafkajs options, and
 * Kafka connection failures into messages that name the setting to check.
 */

function readPem(variable: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`${variable}=${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): point it at a PEM file this process can read.`);
  }
}

/**
 * The kafkajs `ssl` and `sasl` options. Files are read each time a client is made, so a
 * rotated certificate is picked up by the next connection. Certificates are always
 * verified: there is deliberately no switch to turn verification off.
 */
export function kafkaClientSecurity(source: NodeJS.ProcessEnv = process.env): Pick<KafkaConfig, "ssl" | "sasl"> {
  const s = kafkaSecuritySettings(source);
  const out: Pick<KafkaConfig, "ssl" | "sasl"> = {};
  if (s.KAFKA_SSL) {
    const ca = s.KAFKA_SSL_CA_FILE ? { ca: [readPem("KAFKA_SSL_CA_FILE", s.KAFKA_SSL_CA_FILE)] } : {};
    const cert = s.KAFKA_SSL_CERT_FILE
      ? { cert: readPem("KAFKA_SSL_CERT_FILE", s.KAFKA_SSL_CERT_FILE), key: readPem("KAFKA_SSL_KEY_FILE", s.KAFKA_SSL_KEY_FILE!) }
      : {};
    out.ssl = { rejectUnauthorized: true, ...ca, ...cert };
  }
  if (s.KAFKA_SASL_MECHANISM) {
    out.sasl = { mechanism: s.KAFKA_SASL_MECHANISM, username: s.KAFKA_SASL_USERNAME!, password: s.KAFKA_SASL_PASSWORD! } as SASLOptions;
  }
  return out;
}

/** The KAFKA_* security variables as set in `source`, for passing on to child processes and .data/sluice.env. */
export function kafkaSecurityVariables(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(Object.keys(kafkaSecurityEnvShape).flatMap((k) => (source[k] ? [[k, source[k]!]] : [])));
}

export interface KafkaConnectionProblem {
  /** What went wrong, without addresses or client internals: safe to show any user. */
  summary: string;
  /** kafkajs' own words (broker address, TLS alert, the broker's SASL message): for operators and logs. */
  detail: string;
  /** Which setting to check. */
  hint: string;
  /** summary (detail). hint. */
  message: string;
}

/**
 * What an operator should do about a Kafka connection failure, or null when the error is
 * not one. kafkajs' messages say what happened; this adds which setting to look at.
 */
export function explainKafkaConnectionError(e: unknown, source: NodeJS.ProcessEnv = process.env): KafkaConnectionProblem | null {
  if (!(e instanceof Error) || !e.name.startsWith("KafkaJS")) return null;
  const chain: Error[] = [];
  for (let x: unknown = e; x instanceof Error && chain.length < 5; x = (x as { cause?: unknown }).cause) chain.push(x);
  const detail = [...new Set(chain.map((x) => x.message))].join(": ");
  let secured = false;
  try {
    secured = kafkaSecured(source);
  } catch {
    /* a configuration error is reported where the client is made */
  }
  const problem = (summary: string, hint: string): KafkaConnectionProblem => ({ summary, detail, hint, message: `${summary} (${detail}). ${hint}.` });
  if (chain.some((x) => x.name === "KafkaJSSASLAuthenticationError") || /SASL|[Aa]uthentication failed/.test(detail)) {
    return problem("Kafka refused Sluice's credentials", "Check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD");
  }
  if (/certificate|self[- ]signed|unable to verify|CERT_|wrong version number|alert/i.test(detail)) {
    return problem(
      "The TLS connection to Kafka failed",
      `Check KAFKA_SSL_CA_FILE (the CA that signed the brokers' certificates)${secured ? "" : " and KAFKA_SSL"}, and KAFKA_SSL_CERT_FILE/KAFKA_SSL_KEY_FILE if the cluster requires client certificates`,
    );
  }
  if (chain.some((x) => ["KafkaJSConnectionError", "KafkaJSConnectionClosedError", "KafkaJSNumberOfRetriesExceeded", "KafkaJSRequestTimeoutError"].includes(x.name))) {
    return problem(
      "Sluice cannot reach Kafka",
      secured
        ? "Check KAFKA_BROKERS, and that the listener there speaks what KAFKA_SSL and KAFKA_SASL_MECHANISM select"
        : "Check KAFKA_BROKERS; if the cluster requires TLS or SASL, set KAFKA_SSL / KAFKA_SASL_MECHANISM",
    );
  }
  return null;
}
