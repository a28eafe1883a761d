import type { Logger } from "pino";
import type { OffsetStore } from "../group/offset-store";
import type { TxnProducer } from "../protocol/apis/add-partitions-to-txn";
import type { PartitionErrors } from "../protocol/apis/offset-commit";
import type { TxnOffsetCommitRequest } from "../protocol/apis/txn-offset-commit";
import { ErrorCode } from "../protocol/errors";
import { ControlType } from "../protocol/record-batch";
import type { InternalTopic } from "../storage/internal-topic";
import type { LogManager } from "../storage/log-manager";

export type TxnStatus = "Empty" | "Ongoing" | "PrepareCommit" | "PrepareAbort" | "CompleteCommit" | "CompleteAbort";

interface PendingOffset {
  group: string;
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
}

interface TxnMeta {
  transactionalId: string;
  producerId: number;
  epoch: number;
  timeoutMs: number;
  status: TxnStatus;
  partitions: [string, number][];
  groups: string[];
  /** TxnOffsetCommit offsets, applied to the groups only if the transaction commits. */
  pendingOffsets: PendingOffset[];
  startedAt: number;
}

const PID_BLOCK = 1000;
/** Kafka's producer.id.expiration.ms default: idle idempotent producers are forgotten after a day. */
const PRODUCER_ID_EXPIRATION_MS = 86_400_000;
const MAX_EPOCH = 32767;

export interface TxnSettings {
  maxTimeoutMs: number;
}

/**
 * Transaction coordinator: producer ids and epochs per transactional id, the partitions
 * and groups in the open transaction, and the two-phase end (Prepare* persisted, then
 * markers written to every partition, then Complete*). State lives in the internal
 * `__transaction_state` log, so a restart finishes prepared transactions and aborts
 * ones that were still open.
 */
export class TransactionCoordinator {
  private readonly txns = new Map<string, TxnMeta>();
  private nextPid = 0;
  private pidLimit = 0;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly state: InternalTopic,
    private readonly logs: LogManager,
    private readonly offsets: OffsetStore,
    private readonly settings: TxnSettings,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.expireTransactions(), 500);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  async load(): Promise<void> {
    for await (const rec of this.state.replay()) {
      const [kind, id] = JSON.parse(rec.key) as [string, string?];
      if (kind === "pid-block" && rec.value) {
        this.pidLimit = Math.max(this.pidLimit, Number(rec.value));
        this.nextPid = this.pidLimit;
      } else if (kind === "txn" && id !== undefined) {
        if (rec.value === null) this.txns.delete(id);
        else this.txns.set(id, JSON.parse(rec.value) as TxnMeta);
      }
    }
    // Producer ids already in the logs (e.g. from before a lost block record) are never reused.
    for (const p of this.logs.allPartitions()) {
      for (const pid of p.producers.producers.keys()) if (pid >= this.nextPid) this.nextPid = pid + 1;
    }
    this.pidLimit = this.nextPid;
    for (const t of this.txns.values()) {
      if (t.status === "PrepareCommit" || t.status === "PrepareAbort") await this.complete(t, t.status === "PrepareCommit");
      else if (t.status === "Ongoing") await this.abort(t, "open at broker start");
    }
    // Transactions with data in a log but no coordinator record (crash before it was persisted).
    for (const p of this.logs.allPartitions()) {
      for (const open of p.producers.openTransactions()) {
        p.appendMarker(open.producerId, open.epoch, ControlType.ABORT);
        await p.waitDurable(p.logEndOffset);
        this.log.warn({ topic: p.topic, partition: p.partition, producerId: open.producerId }, "aborted orphan transaction");
      }
    }
  }

  private async withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.locks.set(id, settled);
    void settled.then(() => {
      if (this.locks.get(id) === settled) this.locks.delete(id);
    });
    return next;
  }

  private async persist(t: TxnMeta): Promise<void> {
    await this.state.append([{ key: JSON.stringify(["txn", t.transactionalId]), value: JSON.stringify(t) }]);
  }

  async allocateProducerId(): Promise<number> {
    if (this.nextPid >= this.pidLimit) {
      // Reserve a block durably first, so a crash can never hand out the same id twice.
      this.pidLimit = this.nextPid + PID_BLOCK;
      await this.state.append([{ key: JSON.stringify(["pid-block"]), value: String(this.pidLimit) }]);
    }
    return this.nextPid++;
  }

  async initProducerId(
    transactionalId: string | null,
    timeoutMs: number,
  ): Promise<{ errorCode: number; producerId: number; producerEpoch: number }> {
    if (transactionalId === null || transactionalId === "") {
      return { errorCode: ErrorCode.NONE, producerId: await this.allocateProducerId(), producerEpoch: 0 };
    }
    if (timeoutMs <= 0 || timeoutMs > this.settings.maxTimeoutMs) {
      return { errorCode: ErrorCode.INVALID_TRANSACTION_TIMEOUT, producerId: -1, producerEpoch: -1 };
    }
    return this.withLock(transactionalId, async () => {
      let t = this.txns.get(transactionalId);
      if (t) {
        if (t.status === "Ongoing") await this.abort(t, "fenced by a new producer instance");
        else if (t.status === "PrepareCommit" || t.status === "PrepareAbort") await this.complete(t, t.status === "PrepareCommit");
        if (t.epoch >= MAX_EPOCH) {
          t.producerId = await this.allocateProducerId();
          t.epoch = 0;
        } else t.epoch++;
        t.timeoutMs = timeoutMs;
        t.status = "Empty";
      } else {
        t = {
          transactionalId,
          producerId: await this.allocateProducerId(),
          epoch: 0,
          timeoutMs,
          status: "Empty",
          partitions: [],
          groups: [],
          pendingOffsets: [],
          startedAt: 0,
        };
        this.txns.set(transactionalId, t);
      }
      await this.persist(t);
      return { errorCode: ErrorCode.NONE, producerId: t.producerId, producerEpoch: t.epoch };
    });
  }

  /** Common producer checks: mapping, fencing by epoch, and no overlapping end. */
  private verify(req: TxnProducer): TxnMeta | number {
    const t = this.txns.get(req.transactionalId);
    if (!t || t.producerId !== req.producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (req.producerEpoch !== t.epoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (t.status === "PrepareCommit" || t.status === "PrepareAbort") return ErrorCode.CONCURRENT_TRANSACTIONS;
    return t;
  }

  private begin(t: TxnMeta): void {
    if (t.status !== "Ongoing") {
      t.status = "Ongoing";
      t.startedAt = Date.now();
      t.partitions = [];
      t.groups = [];
      t.pendingOffsets = [];
    }
  }

  addPartitions(req: TxnProducer & { topics: { name: string; partitions: number[] }[] }): Promise<PartitionErrors> {
    return this.withLock(req.transactionalId, async () => {
      const t = this.verify(req);
      const unknown = req.topics.some((tp) => tp.partitions.some((p) => !this.logs.partition(tp.name, p)));
      const codeFor = (name: string, p: number): number => {
        if (typeof t === "number") return t;
        if (!this.logs.partition(name, p)) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        return unknown ? 55 /* OPERATION_NOT_ATTEMPTED */ : ErrorCode.NONE;
      };
      if (typeof t !== "number" && !unknown) {
        this.begin(t);
        for (const tp of req.topics) {
          for (const p of tp.partitions) {
            if (!t.partitions.some(([n, i]) => n === tp.name && i === p)) t.partitions.push([tp.name, p]);
          }
        }
        await this.persist(t);
      }
      return {
        topics: req.topics.map((tp) => ({
          name: tp.name,
          partitions: tp.partitions.map((p) => ({ index: p, errorCode: codeFor(tp.name, p) })),
        })),
      };
    });
  }

  addOffsets(req: TxnProducer & { groupId: string }): Promise<number> {
    return this.withLock(req.transactionalId, async () => {
      const t = this.verify(req);
      if (typeof t === "number") return t;
      this.begin(t);
      if (!t.groups.includes(req.groupId)) t.groups.push(req.groupId);
      await this.persist(t);
      return ErrorCode.NONE;
    });
  }

  txnOffsetCommit(req: TxnOffsetCommitRequest): Promise<PartitionErrors> {
    return this.withLock(req.transactionalId, async () => {
      const t = this.verify(req);
      let code: number = typeof t === "number" ? t : ErrorCode.NONE;
      if (typeof t !== "number") {
        if (t.status !== "Ongoing" || !t.groups.includes(req.groupId)) code = ErrorCode.INVALID_TXN_STATE;
        else {
          for (const tp of req.topics) {
            for (const p of tp.partitions) {
              t.pendingOffsets = t.pendingOffsets.filter(
                (o) => !(o.group === req.groupId && o.topic === tp.name && o.partition === p.index),
              );
              t.pendingOffsets.push({ group: req.groupId, topic: tp.name, partition: p.index, offset: p.offset, metadata: p.metadata });
            }
          }
          await this.persist(t);
        }
      }
      return {
        topics: req.topics.map((tp) => ({ name: tp.name, partitions: tp.partitions.map((p) => ({ index: p.index, errorCode: code })) })),
      };
    });
  }

  endTxn(req: TxnProducer & { committed: boolean }): Promise<number> {
    return this.withLock(req.transactionalId, async () => {
      const t = this.txns.get(req.transactionalId);
      if (!t || t.producerId !== req.producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
      if (req.producerEpoch !== t.epoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
      // A retried EndTxn after success is answered as success.
      if (t.status === "CompleteCommit") return req.committed ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      if (t.status === "CompleteAbort") return req.committed ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      if (t.status !== "Ongoing") return ErrorCode.INVALID_TXN_STATE;
      t.status = req.committed ? "PrepareCommit" : "PrepareAbort";
      await this.persist(t);
      await this.complete(t, req.committed);
      return ErrorCode.NONE;
    });
  }

  /** Phase two: markers in every partition of the transaction, then offsets, then Complete*. */
  private async complete(t: TxnMeta, commit: boolean): Promise<void> {
    const type = commit ? ControlType.COMMIT : ControlType.ABORT;
    const waits: Promise<void>[] = [];
    for (const [topic, index] of t.partitions) {
      const p = this.logs.partition(topic, index);
      if (!p) continue;
      p.appendMarker(t.producerId, t.epoch, type);
      waits.push(p.waitDurable(p.logEndOffset));
    }
    await Promise.all(waits);
    if (commit && t.pendingOffsets.length > 0) {
      const byGroup = new Map<string, PendingOffset[]>();
      for (const o of t.pendingOffsets) byGroup.set(o.group, [...(byGroup.get(o.group) ?? []), o]);
      for (const [group, list] of byGroup) await this.offsets.commit(group, list);
    }
    t.status = commit ? "CompleteCommit" : "CompleteAbort";
    t.partitions = [];
    t.groups = [];
    t.pendingOffsets = [];
    await this.persist(t);
    this.log.debug({ transactionalId: t.transactionalId, commit }, "transaction completed");
  }

  /** Aborts with a bumped epoch: the old producer instance is fenced from then on. */
  private async abort(t: TxnMeta, reason: string): Promise<void> {
    this.log.info({ transactionalId: t.transactionalId, reason }, "aborting transaction");
    if (t.epoch < MAX_EPOCH) t.epoch++;
    t.status = "PrepareAbort";
    await this.persist(t);
    await this.complete(t, false);
  }

  /**
   * A transactional batch can land in a partition without a coordinator transaction that
   * will ever end it (a client that skipped AddPartitionsToTxn, state lost in a crash). It
   * would hold the LSO back forever, so past the longest allowed timeout it is aborted.
   */
  private abortHangingTransactions(now: number): void {
    for (const p of this.logs.allPartitions()) {
      p.producers.prune(now, PRODUCER_ID_EXPIRATION_MS);
      for (const open of p.producers.openTransactions()) {
        if (now - open.startedAt <= this.settings.maxTimeoutMs) continue;
        const owned = [...this.txns.values()].some(
          (t) => t.producerId === open.producerId && t.status === "Ongoing" && t.partitions.some(([n, i]) => n === p.topic && i === p.partition),
        );
        if (owned) continue;
        p.appendMarker(open.producerId, open.epoch, ControlType.ABORT);
        this.log.warn({ topic: p.topic, partition: p.partition, producerId: open.producerId }, "aborted hanging transaction");
      }
    }
  }

  private async expireTransactions(now = Date.now()): Promise<void> {
    this.abortHangingTransactions(now);
    for (const t of this.txns.values()) {
      if (t.status === "Ongoing" && now - t.startedAt > t.timeoutMs) {
        await this.withLock(t.transactionalId, async () => {
          if (t.status === "Ongoing" && Date.now() - t.startedAt > t.timeoutMs) await this.abort(t, "transaction timeout");
        }).catch((err: unknown) => this.log.error({ err }, "transaction timeout abort failed"));
      }
    }
  }
}
