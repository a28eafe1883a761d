import type { Admin, Kafka, Producer } from "kafkajs";
import { Partitioners } from "kafkajs";
import { hostname } from "node:os";
import { createKafka } from "./client";
import { PartitionReader } from "./partition-reader";

/**
 * Per-process Kafka connections for request handling (web process): one
 * admin, one idempotent producer and one partition reader, connected on first
 * use and reused.
 */
interface Shared {
  kafka?: Kafka;
  admin?: Promise<Admin>;
  producer?: Promise<Producer>;
  /** Transactional producers (see withTransactionalProducer): the slots that have one, the idle ones, and who waits for one. */
  transactional?: { slots: Set<number>; idle: { producer: Producer; slot: number }[]; waiting: (() => void)[] };
  reader?: Promise<PartitionReader>;
}
const g = globalThis as unknown as { sluiceKafka?: Shared };
const shared = (): Shared => (g.sluiceKafka ??= {});

export function kafka(): Kafka {
  return (shared().kafka ??= createKafka());
}

function connectOnce<T>(connect: () => Promise<T>, key: "admin" | "producer" | "reader"): Promise<T> {
  const s = shared();
  const existing = s[key] as Promise<T> | undefined;
  if (existing) return existing;
  const p = connect();
  // A failed connect must not be cached: the next call tries again.
  p.catch(() => {
    if (s[key] === (p as unknown)) s[key] = undefined;
  });
  (s as Record<string, unknown>)[key] = p;
  return p;
}

const connected = <T extends { connect(): Promise<void> }>(client: T) => client.connect().then(() => client);

export const kafkaAdmin = () => connectOnce(() => connected(kafka().admin()), "admin");

export const kafkaProducer = () =>
  connectOnce(() => connected(kafka().producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner })), "producer");

/**
 * One partition reader per process for record reads, live tails and previews:
 * its broker connections are shared by all of them (kafkajs multiplexes
 * requests on a connection), instead of ~4 new connections per open tail.
 * Reads through it never wait on the broker (maxWaitMs 0), so one caller's
 * fetch does not hold up another's on the same connection.
 */
export const partitionReader = () => connectOnce(() => PartitionReader.open(kafka()), "reader");

/** Transactions a process runs at once (requests beyond it wait their turn): each needs its own producer and connection. */
const TRANSACTIONAL_PRODUCERS = 4;

/**
 * Lends a transactional producer (one transaction at a time each) for writes
 * that must be all or nothing across partitions and requests: produce
 * requests and `sluice stream produce`. Transactional ids name this host,
 * process and slot, so they stay few (one per slot and process) and two
 * processes never fence each other. A producer whose transaction failed is
 * dropped, not reused: kafkajs leaves it in an undefined state.
 */
export async function withTransactionalProducer<T>(fn: (producer: Producer) => Promise<T>): Promise<T> {
  const s = shared();
  const pool = (s.transactional ??= { slots: new Set(), idle: [], waiting: [] });
  while (!pool.idle.length && pool.slots.size >= TRANSACTIONAL_PRODUCERS) await new Promise<void>((r) => pool.waiting.push(r));
  let lent = pool.idle.pop();
  if (!lent) {
    let slot = 1;
    while (pool.slots.has(slot)) slot++;
    pool.slots.add(slot);
    const producer = kafka().producer({ transactionalId: `sluice.produce.${hostname()}.${process.pid}.${slot}`, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000, createPartitioner: Partitioners.DefaultPartitioner });
    try {
      await producer.connect();
    } catch (e) {
      pool.slots.delete(slot);
      pool.waiting.shift()?.();
      throw e;
    }
    lent = { producer, slot };
  }
  let healthy = false;
  try {
    const out = await fn(lent.producer);
    healthy = true;
    return out;
  } finally {
    if (healthy && g.sluiceKafka === s) pool.idle.push(lent);
    else {
      await lent.producer.disconnect().catch(() => undefined);
      pool.slots.delete(lent.slot);
    }
    pool.waiting.shift()?.();
  }
}

export async function closeKafka(): Promise<void> {
  const s = shared();
  const [admin, producer, reader] = await Promise.all([s.admin?.catch(() => undefined), s.producer?.catch(() => undefined), s.reader?.catch(() => undefined)]);
  await Promise.all([admin?.disconnect(), producer?.disconnect(), reader?.close(), ...(s.transactional?.idle ?? []).map((p) => p.producer.disconnect().catch(() => undefined))]);
  g.sluiceKafka = undefined;
}
