import { logLevel } from "kafkajs";
import { clickhouse, clickhouseUrl } from "@/lib/clickhouse/client";
import { prisma } from "@/lib/db/prisma";
import { createKafka, kafkaBrokers } from "@/lib/kafka/client";
import { explainKafkaConnectionError } from "@/lib/kafka/security";
import { redis } from "@/lib/redis/client";

export interface DependencyHealth {
  state: "ok" | "down";
  latencyMs: number;
  error?: string;
}

export interface Health {
  status: "ok" | "degraded";
  deps: { postgres: DependencyHealth; redis: DependencyHealth; kafka: DependencyHealth; clickhouse: DependencyHealth };
}

const TIMEOUT_MS = 2_000;

async function probe(fn: () => Promise<unknown>): Promise<DependencyHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      }),
    ]);
    return { state: "ok", latencyMs: Math.round(performance.now() - started) };
  } catch (e) {
    return { state: "down", latencyMs: Math.round(performance.now() - started), error: e instanceof Error ? e.message.split("\n")[0] : String(e) };
  } finally {
    clearTimeout(timer);
  }
}

async function kafkaProbe(): Promise<void> {
  if (!kafkaBrokers()) throw new Error("KAFKA_BROKERS is not set");
  const admin = createKafka({ logLevel: logLevel.NOTHING, connectionTimeout: 1_500, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (e) {
    const problem = explainKafkaConnectionError(e);
    throw problem ? new Error(problem.message) : e;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function clickhouseProbe(): Promise<void> {
  if (!clickhouseUrl()) throw new Error("CLICKHOUSE_URL is not set");
  const r = await clickhouse().ping();
  if (!r.success) throw r.error;
}

/** Checks every backing service in parallel, each bounded by a short timeout. */
export async function checkHealth(): Promise<Health> {
  const [postgres, redisHealth, kafka, ch] = await Promise.all([
    probe(() => prisma().$queryRaw`SELECT 1`),
    probe(() => redis().ping()),
    probe(kafkaProbe),
    probe(clickhouseProbe),
  ]);
  const deps = { postgres, redis: redisHealth, kafka, clickhouse: ch };
  return { status: Object.values(deps).every((d) => d.state === "ok") ? "ok" : "degraded", deps };
}
