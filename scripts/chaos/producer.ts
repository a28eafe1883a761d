import { Partitioners, type Kafka, type Producer } from "kafkajs";
import { ID_HEADER, StreamGenerator, type ProducedRecord, type SourceStreamSpec } from "./workload";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes the seeded workload at a steady rate and remembers every record the
 * broker acknowledged (acks=all), so the checks can prove no acknowledged
 * produce was lost. One send at a time, each retried until acknowledged before
 * the next, so a partition receives records in generation order — the bound
 * on event-time disorder holds in every partition. Faults only delay records;
 * the producer never skips one.
 */
export class ChaosProducer {
  readonly generators: StreamGenerator[];
  readonly acked = new Set<string>();
  sends = 0;
  failedSends = 0;
  /** New producer sessions after repeated failures (each may re-write an unacknowledged batch: duplicates in the source, reported). */
  reconnects = 0;
  private queue: ProducedRecord[] = [];
  private producer?: Producer;
  private running = false;
  private loop?: Promise<void>;
  private t0 = 0;

  constructor(
    private readonly kafka: Kafka,
    specs: readonly SourceStreamSpec[],
    seed: number,
    t0: number,
    private readonly log: (line: string) => void,
  ) {
    this.t0 = t0;
    this.generators = specs.map((s, i) => new StreamGenerator(s, seed * 1_000 + i, t0));
  }

  get backlog(): number {
    return this.queue.length;
  }

  get produced(): number {
    return this.generators.reduce((n, g) => n + g.produced, 0);
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  private async connect(): Promise<Producer> {
    if (this.producer) return this.producer;
    const p = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 3 } });
    await p.connect();
    this.producer = p;
    return p;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const elapsed = Date.now() - this.t0;
      for (const g of this.generators) while (g.produced < g.dueAt(elapsed)) this.queue.push(g.next());
      if (this.queue.length) await this.sendHead();
      else await sleep(50);
    }
  }

  /** Sends the oldest queued records; on failure they stay first in the queue and are sent again. */
  private async sendHead(): Promise<void> {
    const batch = this.queue.slice(0, 1_000);
    const byTopic = new Map<string, { key: string; value: Buffer; headers: Record<string, string>; partition?: number }[]>();
    for (const r of batch) {
      let list = byTopic.get(r.stream);
      if (!list) byTopic.set(r.stream, (list = []));
      list.push({ key: r.key, value: r.value, headers: { [ID_HEADER]: r.id }, ...(r.partition !== undefined ? { partition: r.partition } : {}) });
    }
    this.sends++;
    try {
      const producer = await this.connect();
      await producer.sendBatch({ acks: -1, timeout: 10_000, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      for (const r of batch) this.acked.add(r.id);
      this.queue.splice(0, batch.length);
      this.consecutiveFailures = 0;
    } catch (e) {
      this.failedSends++;
      this.consecutiveFailures++;
      if (this.consecutiveFailures === 1) this.log(`producer: send failed (${(e as Error).message}); retrying the same ${batch.length} records`);
      if (this.consecutiveFailures % 20 === 0) {
        // kafkajs's idempotent producer can stay broken after a long broker outage; a new session recovers.
        this.reconnects++;
        this.log(`producer: ${this.consecutiveFailures} failed sends in a row; new producer session`);
        const old = this.producer;
        this.producer = undefined;
        await old?.disconnect().catch(() => {});
      }
      await sleep(250);
    }
  }

  private consecutiveFailures = 0;

  /** Stops generating, sends everything queued, then one end marker per source partition (see StreamGenerator.endMarker). */
  async stop(partitions: (stream: string) => number, deadlineMs: number): Promise<void> {
    this.running = false;
    await this.loop;
    for (const g of this.generators) for (let p = 0; p < partitions(g.spec.name); p++) this.queue.push(g.endMarker(p));
    while (this.queue.length) {
      if (Date.now() > deadlineMs) throw new Error(`producer could not deliver its last ${this.queue.length} records before the deadline`);
      await this.sendHead();
    }
    await this.producer?.disconnect().catch(() => {});
  }
}
