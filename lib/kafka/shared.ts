import type { Admin, Kafka, Producer } from "kafkajs";
import { Partitioners } from "kafkajs";
import { createKafka } from "./client";

/**
 * Per-process Kafka connections for request handling (web process): one
 * admin and one idempotent producer, connected on first use and reused.
 */
interface Shared {
  kafka?: Kafka;
  admin?: Promise<Admin>;
  producer?: Promise<Producer>;
}
const g = globalThis as unknown as { sluiceKafka?: Shared };
const shared = (): Shared => (g.sluiceKafka ??= {});

export function kafka(): Kafka {
  return (shared().kafka ??= createKafka());
}

function connectOnce<T extends { connect(): Promise<void> }>(make: () => T, key: "admin" | "producer"): Promise<T> {
  const s = shared();
  const existing = s[key] as Promise<T> | undefined;
  if (existing) return existing;
  const p = (async () => {
    const client = make();
    await client.connect();
    return client;
  })();
  // A failed connect must not be cached: the next call tries again.
  p.catch(() => {
    if (s[key] === (p as unknown)) s[key] = undefined;
  });
  (s as Record<string, unknown>)[key] = p;
  return p;
}

export const kafkaAdmin = () => connectOnce(() => kafka().admin(), "admin");

export const kafkaProducer = () =>
  connectOnce(() => kafka().producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner }), "producer");

export async function closeKafka(): Promise<void> {
  const s = shared();
  const [admin, producer] = await Promise.all([s.admin?.catch(() => undefined), s.producer?.catch(() => undefined)]);
  await Promise.all([admin?.disconnect(), producer?.disconnect()]);
  g.sluiceKafka = undefined;
}
