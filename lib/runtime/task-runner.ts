import { randomUUID } from "node:crypto";
import type { Consumer, KafkaMessage, Message, Producer } from "kafkajs";
import type { Redis } from "ioredis";
import { prisma } from "@/lib/db/prisma";
import { createKafka } from "@/lib/kafka/client";
import { explainKafkaConnectionError } from "@/lib/kafka/security";
import { moduleLogger } from "@/lib/log/logger";
import { encodeRecord, hasErrors } from "@/lib/pipeline";
import { compilePipeline, type PartitionId, type Plan, type PlanResult } from "@/lib/compiler";
import { stageContext } from "@/lib/compiler/stages";
import type { WatermarkMarker } from "@/lib/operators/window";
import { kafkaAdmin } from "@/lib/kafka/shared";
import { loadTeamCatalog } from "@/lib/pipelines/catalog-context";
import { checkPipeline } from "@/lib/pipelines/pipelines";
import type { RunTaskPayload } from "@/lib/queue/contracts";
import { readControl, shouldRun } from "./control";
import { platformTopicProblem } from "./dead-letter";
import { deadLetterStreamName, MAIN_STAGE_ID, stageConsumerGroupId, stageTransactionalId } from "./naming";
import { deployedStages, markerMessages, mergeResults, splitAtMarkers } from "./stages";
import { ownedKeyGroups } from "@/lib/compiler/key-groups";
import { staticTaskAssigner } from "./static-assigner";
import { GroupCommit } from "./group-commit";
import { maxSliceFor, ProgressWatchdog, rebalanceTimeoutMs, SliceSizer, yieldToEventLoop } from "./batch-pacing";
import { changelogMessages, dropOldChangelogs, ensureChangelogTopic, ensureStageChangelogTopic, readChangelog } from "./state-store";
import { TaskMetrics } from "./task-metrics";
import { SourceProgress, sourcePartitionId } from "./source-progress";
import { chunkTopicMessages } from "./produce-chunks";
import { clearTaskState, readTaskStates, recordTaskError, writeTaskState, type TaskPhase, type TaskState } from "./task-state";

const log = moduleLogger("task");

/** Thrown when the worker is shutting down: the job goes back to the queue for another worker. */
export class TaskHandoff extends Error {
  constructor() {
    super("worker shutting down; task handed back to the queue");
    this.name = "TaskHandoff";
  }
}

/**
 * The worker lost the task's BullMQ lock (it stalled past the lock's duration) and another
 * worker runs, or will run, the task: this copy stopped without touching the task's state.
 */
export class TaskLockLost extends Error {
  constructor() {
    super("task lost its lock to another worker; stopped here");
    this.name = "TaskLockLost";
  }
}

/** A task cannot run and retrying will not help (pipeline no longer valid, access revoked): the deployment fails. */
export class TaskFatal extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TaskFatal";
  }
}

/**
 * A record's meta through the plan is kafkajs's own message object (offset,
 * timestamp, key, value), so nothing is allocated per record for it. The plan
 * only hands back metas of the batch it is processing, whose topic and
 * partition are `InBatch`.
 */
type SourceMeta = KafkaMessage;
interface InBatch {
  topic: string;
  partition: number;
}

export interface RunTaskOptions {
  redis: Redis;
  workerId: string;
  /** Aborted when the worker process shuts down. */
  shutdown: AbortSignal;
  /** Aborted when the worker could not renew the task's lock: another worker may already run it. */
  lockLost?: AbortSignal;
  controlPollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * kafkajs retries an idempotent producer's sends forever by default, so a write
 * that can never succeed (the sink's topic deleted on the cluster, a broker
 * gone for good) left the task hanging with no error anywhere. Bounded to ~20 s
 * of retries, the round fails, the task crashes and the restart policy takes
 * over: restart with backoff, and a failed deployment (and alert) if it keeps
 * failing (restart-policy.ts). Safe for both guarantees: exactly_once aborts
 * the round's transaction and the restarted task fences the old producer;
 * at_least_once may write the round again, which it allows.
 */
const WRITE_RETRY = { retries: 6, initialRetryTime: 300, maxRetryTime: 10_000 };

/** Sleeps `ms`, or less when `signal` aborts first. */
function sleepUnless(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return sleep(ms) as Promise<void>;
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/** How often a running task re-checks that its team may still read its sources and write its sinks. */
const ACCESS_RECHECK_MS = Number(process.env.SLUICE_ACCESS_RECHECK_MS ?? 10_000);

/**
 * Fault injection for the failover tests: widens the window between writing a
 * batch's output and committing it, so that a kill -9 lands inside it. Never
 * set in production.
 */
const FAULT_DELAY_BEFORE_COMMIT_MS = Number(process.env.SLUICE_FAULT_DELAY_BEFORE_COMMIT_MS ?? 0);
/**
 * Fault injection for the runtime tests: every Nth round that writes output
 * fails after its output was sent and before it commits (exactly_once: the
 * transaction is aborted), as when the broker dies mid-commit. Never set in
 * production.
 */
const FAULT_FAIL_ROUND_EVERY = Number(process.env.SLUICE_FAULT_FAIL_ROUND_EVERY ?? 0);

/**
 * Runs one task of a deployment until its generation is superseded or the
 * deployment is stopped: a consumer-group member with a fixed set of
 * partitions, the compiled plan, and a producer to the sink and dead-letter
 * streams. at_least_once commits offsets after the sink acknowledged;
 * exactly_once writes output, dead letters and offsets in one transaction.
 */
export async function runTask(payload: RunTaskPayload, opts: RunTaskOptions): Promise<"superseded" | "stopped"> {
  const { redis } = opts;
  const lockLost = () => opts.lockLost?.aborted === true;
  const deployment = await prisma().deployment.findUnique({ where: { id: payload.deploymentId }, include: { version: true, pipeline: { include: { team: true } } } });
  const stageId = payload.stage ?? MAIN_STAGE_ID;
  if (!deployment || deployment.generation !== payload.generation || deployment.desiredState !== "running" || payload.taskIndex >= deployment.parallelism) return "superseded";
  if (!(deployment.stages.length ? deployment.stages : [MAIN_STAGE_ID]).includes(stageId)) return "superseded";
  const { pipeline } = deployment;
  const team = pipeline.team;
  const exactlyOnce = deployment.deliveryGuarantee === "exactly_once";
  const tlog = log.child({ deployment: deployment.id, stage: stageId, task: payload.taskIndex, generation: payload.generation });

  const state: TaskState = {
    deploymentId: deployment.id, ...(stageId === MAIN_STAGE_ID ? {} : { stage: stageId }), taskIndex: payload.taskIndex, generation: payload.generation, phase: "starting", workerId: opts.workerId,
    startedAt: Date.now(), heartbeatAt: Date.now(), partitions: {}, recordsIn: 0, recordsOut: 0, recordsErrored: 0, consumerLag: 0, recordsPerSec: 0,
  };
  const publish = (phase?: TaskPhase) => {
    if (phase) state.phase = phase;
    // The task's state key belongs to whichever worker holds the lock; a copy that lost it keeps quiet.
    if (lockLost()) return Promise.resolve();
    return writeTaskState(redis, state).catch(() => {});
  };
  await publish("starting");

  // Tasks of an older generation stop at their next committed point; wait for
  // them so two generations never consume at once (fencing covers the rest).
  const waitUntil = Date.now() + 30_000;
  while (Date.now() < waitUntil) {
    const stages = [...new Set([MAIN_STAGE_ID, ...deployment.stages, ...deployment.previousStages])];
    const others = await readTaskStates(redis, deployment.id, Math.max(deployment.parallelism, deployment.previousParallelism ?? 0), stages);
    if (!others.some((o) => o.generation < payload.generation && o.phase !== "stopped")) break;
    if (!shouldRun(await readControl(redis, deployment.id), payload.generation)) return "superseded";
    if (lockLost()) throw new TaskLockLost();
    await sleep(200);
  }

  // Validate again: the catalog may have changed since deploy (grant revoked, stream deleted).
  const checked = await checkPipeline(team.id, deployment.version.graph);
  if (!checked.pipeline || hasErrors(checked.diagnostics)) {
    const first = checked.diagnostics.find((d) => d.severity === "error");
    throw new TaskFatal(`version ${deployment.version.version} cannot run: ${first ? `${first.nodeId ? `node "${first.nodeId}": ` : ""}${first.message}` : "invalid pipeline"}`);
  }
  const catalog = await loadTeamCatalog(team.id);
  // Keyed scale-out: the stage this task runs (the whole pipeline for most; docs/runtime.md "Stages").
  const maxParallelism = deployment.maxParallelism;
  const split = deployedStages(checked.pipeline, pipeline.id, catalog.ctx, maxParallelism);
  if (split.diagnostics.length) throw new TaskFatal(`version ${deployment.version.version} cannot run in stages: node "${split.diagnostics[0].nodeId}": ${split.diagnostics[0].message}`);
  const stage = split.stages.find((s) => s.id === stageId);
  if (!stage) throw new TaskFatal(`version ${deployment.version.version} has no stage "${stageId}": redeploy it`);
  // The topic-partition whose batch the plan is processing (plan calls never overlap: GroupCommit runs them in turn).
  let inBatch: InBatch | undefined;
  const plan: Plan = compilePipeline(stage.pipeline, stageContext(catalog.ctx, split.stages), {
    checkSourceSchema: true,
    // Windows keep a watermark per source partition this task owns (docs/runtime.md "Watermarks").
    partitionOf: (m) => (m && inBatch ? sourcePartitionId(inBatch.topic, inBatch.partition) : undefined),
    keyGroups: stage.input !== undefined,
    repartitions: new Map([...stage.repartitions].map(([sinkId, r]) => [sinkId, { config: r.config, partitions: maxParallelism ?? 1 }])),
  });
  // Internal streams (the stages' repartition streams) are named as their topics; the catalog knows every other one's.
  // Validation above refuses unknown streams; a stream deleted since then must fail the deployment with its name, not crash-loop.
  const internal = new Set(split.stages.flatMap((s) => [...(s.input ? [s.input] : []), ...s.repartitions.values()].map((r) => r.stream)));
  const topicOf = (stream: string) => {
    const entry = catalog.entries.get(stream);
    if (entry) return entry.topic;
    if (internal.has(stream)) return stream;
    throw new TaskFatal(`stream "${stream}" does not exist or is not visible to team "${team.slug}"`);
  };
  // Positions and end offsets of the owned source partitions: which ones are caught up (may go idle).
  const progress = new SourceProgress();
  const sourceTopics = [...new Set([...plan.sources.values()].map(topicOf))];
  const topicToStream = new Map([...plan.sources.values()].map((s) => [topicOf(s), s]));
  const sinkTopic = new Map([...plan.sinks].map(([nodeId, s]) => [nodeId, topicOf(s)]));
  const sourceNodes = new Set(plan.sources.keys());
  const sinkNodes = new Set(plan.sinks.keys());
  const dlqTopic = deadLetterStreamName(team.slug, pipeline.name);
  const udfTimeouts = checked.pipeline.nodes.flatMap((n) => (n.type === "udf" ? [n.config.timeoutMs] : []));
  // Deploy checks this too; a deployment made before the platform reserved "dlq." must not keep writing to a squatted stream.
  const dlqProblem = await platformTopicProblem(team.id, dlqTopic, "dead-letter");
  if (dlqProblem) throw new TaskFatal(dlqProblem);
  const groupId = stageConsumerGroupId(pipeline.id, stageId);

  const kafka = createKafka({ clientId: `sluice-task-${pipeline.name}-${stageId === MAIN_STAGE_ID ? "" : `${stageId}-`}${payload.taskIndex}` });
  const producer: Producer = exactlyOnce
    ? kafka.producer({ transactionalId: stageTransactionalId(pipeline.id, stageId, payload.taskIndex), maxInFlightRequests: 1, idempotent: true, transactionTimeout: 60_000, retry: WRITE_RETRY })
    : kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: WRITE_RETRY });
  const consumer: Consumer = kafka.consumer({
    groupId,
    partitionAssigners: [staticTaskAssigner({ taskIndex: payload.taskIndex, parallelism: deployment.parallelism, generation: payload.generation })],
    readUncommitted: false,
    // Failure detection: a dead member leaves the group after sessionTimeout.
    sessionTimeout: 6_000,
    // Long enough for a slice in flight to finish before the task rejoins (batch-pacing.ts).
    rebalanceTimeout: rebalanceTimeoutMs(udfTimeouts),
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 100,
    // Bounded fetches; the plan runs them in slices (batch-pacing.ts), so the event loop (and BullMQ's lock renewal) is never starved.
    maxBytesPerPartition: 1024 * 1024,
    maxBytes: 4 * 1024 * 1024,
    retry: { retries: 5 },
  });
  const metrics = new TaskMetrics({ deploymentId: deployment.id, pipelineId: pipeline.id, stage: stageId, taskIndex: payload.taskIndex, workerId: opts.workerId, version: deployment.version.version });
  const instance = randomUUID();
  let stopReason: "superseded" | "stopped" | "handoff" | "lock-lost" | undefined;
  let crashed: Error | undefined;
  let lastRateAt = Date.now();
  let lastRateIn = 0;
  let lastNodeOut = new Map<string, number>();

  let writtenRounds = 0;

  const dlqMessage = (reason: string, nodeId: string, meta: SourceMeta | undefined, record: unknown, batch: InBatch | undefined): Message => ({
    key: meta?.key ?? null,
    value: JSON.stringify({
      reason, nodeId, pipelineId: pipeline.id, version: deployment.version.version,
      source: meta && batch ? { topic: batch.topic, partition: batch.partition, offset: meta.offset, timestamp: Number(meta.timestamp), key: meta.key?.toString("utf8") ?? null } : null,
      original: meta?.value?.toString("base64") ?? null,
      record: record ?? null,
      failedAt: Date.now(),
    }),
  });

  // Window state: the earlier layout keeps one changelog partition per task; a Window stage keeps one per key group.
  const keyGroups = stage.input ? ownedKeyGroups(maxParallelism!, payload.taskIndex, deployment.parallelism) : [];
  const changelog = !plan.stateful
    ? undefined
    : stage.input
      ? await ensureStageChangelogTopic(pipeline.id, stageId, deployment.stateEpoch, maxParallelism!)
      : await ensureChangelogTopic(pipeline.id, deployment.stateEpoch, deployment.parallelism);
  const repartitionTopics = new Map([...stage.repartitions].map(([sinkId, r]) => [sinkId, r.stream]));

  /** A plan result with where it came from: a batch's (offsets to commit) or a window pass's. */
  interface TaskResult {
    res: PlanResult & { encoded?: Map<string, Uint8Array[]> };
    offsets?: { topic: string; partition: number; offset: string };
    batch?: InBatch;
  }

  /** Adds a result's Sink outputs and dead letters to `byTopic`; its output bytes. */
  const messagesOf = ({ res, batch }: TaskResult, byTopic: Map<string, Message[]>): number => {
    const add = (topic: string, messages: Message[]) => {
      const list = byTopic.get(topic);
      if (list) for (const m of messages) list.push(m);
      else byTopic.set(topic, messages);
    };
    let bytesOut = 0;
    for (const [sinkId, rows] of res.sinks) {
      const encoded = res.encoded?.get(sinkId) ?? rows.map(encodeRecord);
      if (!encoded.length) continue;
      const sm = (res.sinkMetas.get(sinkId) ?? []) as (SourceMeta | undefined)[];
      // A repartition stream's records are keyed by the Window's key, in the partition of its key group.
      const keys = res.sinkKeys?.get(sinkId);
      const parts = res.sinkPartitions?.get(sinkId);
      add(sinkTopic.get(sinkId)!, encoded.map((v, i) => {
        bytesOut += v.byteLength;
        const value = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
        return keys && parts ? { key: keys[i], partition: parts[i], value, timestamp: sm[i]?.timestamp } : { key: sm[i]?.key ?? null, value, timestamp: sm[i]?.timestamp };
      }));
    }
    if (res.errors.length) add(dlqTopic, res.errors.map((e) => dlqMessage(e.reason, e.nodeId, e.meta as SourceMeta | undefined, e.record, batch)));
    return bytesOut;
  };

  /**
   * Writes a round of results — Sink outputs, dead letters, window state
   * changes — and commits their input offsets with them: in one transaction
   * (exactly_once), or send-then-commit (at_least_once).
   */
  const writeRound = async (results: TaskResult[], changes: { topic: string; messages: Message[] }[]): Promise<number[]> => {
    const byTopic = new Map<string, Message[]>();
    const bytes = results.map((r) => messagesOf(r, byTopic));
    // After the round's records: changelog entries, and watermark markers (after the records they cover, in every partition).
    for (const c of changes) byTopic.set(c.topic, [...(byTopic.get(c.topic) ?? []), ...c.messages]);
    const topicMessages = chunkTopicMessages([...byTopic].map(([topic, messages]) => ({ topic, messages })));
    // The newest offset per partition (a round holds one batch per partition, as kafkajs
    // fetches a partition again only after its batch is done, but take the last to be exact).
    const next = new Map<string, { topic: string; partition: number; offset: string }>();
    for (const { offsets } of results) if (offsets) next.set(`${offsets.topic}:${offsets.partition}`, offsets);
    const offsets = [...next.values()];
    if (!topicMessages.length && !offsets.length) return bytes;
    const injectFailure = FAULT_FAIL_ROUND_EVERY > 0 && topicMessages.length > 0 && ++writtenRounds % FAULT_FAIL_ROUND_EVERY === 0;
    if (exactlyOnce) {
      const txn = await producer.transaction();
      try {
        // Output (AddPartitionsToTxn, Produce) and offsets (AddOffsetsToTxn, TxnOffsetCommit) are
        // independent steps of one transaction: sent together, the commit waits for three round
        // trips instead of five. Both settle before the commit, or before the abort if one failed.
        const steps: Promise<unknown>[] = [];
        if (topicMessages.length) steps.push((async () => { for (const chunk of topicMessages) await txn.sendBatch({ topicMessages: chunk }); })());
        if (offsets.length) {
          const topics = [...new Set(offsets.map((o) => o.topic))].map((topic) => ({
            topic,
            partitions: offsets.filter((o) => o.topic === topic).map((o) => ({ partition: o.partition, offset: o.offset })),
          }));
          steps.push(txn.sendOffsets({ consumerGroupId: groupId, topics }));
        }
        const failed = (await Promise.allSettled(steps)).find((r) => r.status === "rejected");
        if (failed) throw failed.reason;
        if (FAULT_DELAY_BEFORE_COMMIT_MS) await sleep(FAULT_DELAY_BEFORE_COMMIT_MS);
        if (injectFailure) throw new Error(`fault injection: round ${writtenRounds} failed before its commit`);
        await txn.commit();
      } catch (e) {
        await txn.abort().catch(() => {});
        throw e;
      }
    } else {
      for (const chunk of topicMessages) await producer.sendBatch({ topicMessages: chunk, acks: -1 });
      if (FAULT_DELAY_BEFORE_COMMIT_MS) await sleep(FAULT_DELAY_BEFORE_COMMIT_MS);
      if (injectFailure) throw new Error(`fault injection: round ${writtenRounds} failed before its offsets were committed`);
      if (offsets.length) await consumer.commitOffsets(offsets);
    }
    if (offsets.length) watchdog.committed();
    return bytes;
  };

  // Batches and timer-driven window passes take turns on the plan; results share commits (group-commit.ts).
  // A plan with Window state cannot go on after a failed round (its state is ahead of the commit):
  // the group commit halts, the task fails and is restarted, and the state is rebuilt from the changelog.
  const commits = new GroupCommit<TaskResult, { topic: string; messages: Message[] }[]>({
    drain: () => {
      const out: { topic: string; messages: Message[] }[] = [];
      if (changelog && stage.input) {
        const messages: Message[] = [];
        for (const [group, byNode] of plan.drainKeyGroupChanges()) messages.push(...changelogMessages(byNode as Map<string, { key: string; value: unknown }[]>, group));
        if (messages.length) out.push({ topic: changelog, messages });
      } else if (changelog) out.push({ topic: changelog, messages: changelogMessages(plan.drainChanges() as Map<string, { key: string; value: unknown }[]>, payload.taskIndex) });
      for (const [sinkId, m] of plan.drainMarkers(Date.now())) {
        const marker: WatermarkMarker = { generation: payload.generation, task: payload.taskIndex, tasks: deployment.parallelism, ...m };
        out.push({ topic: repartitionTopics.get(sinkId)!, messages: markerMessages(marker, maxParallelism!) });
      }
      return out;
    },
    write: writeRound,
    haltOnFailure: plan.stateful,
  });

  /** Every plan result — a batch's or a window pass's — is counted the same way, so status, ClickHouse and the sinks agree. */
  const account = (res: PlanResult, bytes: { in: number; out: number }, ms: number) => {
    metrics.recordBatch(res.perNode, { ...bytes, sourceNodes, sinkNodes }, ms);
    state.recordsIn = metrics.totalIn;
    state.recordsOut = metrics.totalOut;
    state.recordsErrored = metrics.totalErrored;
  };

  const sizer = new SliceSizer(maxSliceFor(plan, udfTimeouts.length));
  // Evictions before a commit (a batch that outlasts the session, again and again): the deployment fails with the reason.
  const watchdog = new ProgressWatchdog();
  /** Set when a heartbeat learns that the group is rebalancing (or evicted this member): batches stop at the next slice. */
  let rebalancing = false;

  /**
   * A fetched batch of one partition, run through the plan in slices
   * (batch-pacing.ts), all committed in one round. `next` is where the
   * consumer continues after it (past any transaction markers at its end),
   * `highWatermark` the partition's end the broker reported with it. Stops
   * between slices when `go()` says so; returns how many of the batch's
   * records it processed (the rest is fetched again).
   */
  const processBatch = async (
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    next: bigint,
    highWatermark: string,
    go: () => boolean,
  ): Promise<number> => {
    const stream = topicToStream.get(topic)!;
    const id = sourcePartitionId(topic, partition);
    progress.sawEnd(id, BigInt(highWatermark));
    const slices: { result: TaskResult; committed: Promise<number>; ms: number; bytesIn: number }[] = [];
    let done = 0;
    const release = commits.hold();
    try {
      while (done < messages.length) {
        if (done > 0) {
          await yieldToEventLoop();
          if (!go()) break;
        }
        const n = sizer.next(messages.length - done);
        const slice = n === messages.length ? messages : messages.slice(done, done + n);
        const last = BigInt(slice[slice.length - 1].offset) + 1n;
        // The whole batch seen: the position moves past the batch's trailing markers too.
        const seen = done + slice.length === messages.length ? next : last;
        // Behind a repartition stream: records in runs, and the upstream tasks' watermark markers between them, in log order.
        const segments = stage.input ? splitAtMarkers(slice) : [{ records: slice }];
        let bytesIn = 0;
        let ms = 0;
        const { result, committed } = await commits.run(async (): Promise<TaskResult> => {
          inBatch = { topic, partition };
          const started = performance.now();
          try {
            const parts: PlanResult[] = [];
            for (const seg of segments) {
              if ("marker" in seg) {
                parts.push(await plan.upstreamWatermark(partition, seg.marker, Date.now()));
                continue;
              }
              const values = seg.records.map((m) => m.value);
              for (const v of values) bytesIn += v?.byteLength ?? 0;
              parts.push(await plan.processEncoded(stream, values, { metas: seg.records, ...(stage.input ? { keyGroup: partition } : {}) }));
            }
            // The plan has seen this partition up to `seen`: a check may now find it caught up.
            progress.advance(id, seen);
            return { res: mergeResults(parts), offsets: { topic, partition, offset: last.toString() }, batch: { topic, partition } };
          } finally {
            ms = performance.now() - started;
            inBatch = undefined;
          }
        });
        sizer.observe(slice.length, ms);
        watchdog.processed();
        slices.push({ result, committed, ms, bytesIn });
        done += slice.length;
      }
    } finally {
      release();
    }
    for (const sl of slices) account(sl.result.res, { in: sl.bytesIn, out: await sl.committed }, sl.ms);
    // Event-time lag: how far behind the wall clock the newest record processed is (Kafka timestamps).
    if (done > 0) metrics.eventTimeLagMs = Math.max(0, Date.now() - Number(messages[done - 1].timestamp));
    return done;
  };

  /** Set when the assignment is known: the next source check first reads where each owned partition starts. */
  let assigned = false;
  let startRead = false;

  /**
   * Processing time passes: windows may close (idle partitions, idle timeout,
   * early emits); their results are written like a batch's. A source check
   * runs first: the plan notes what each partition had delivered, then the
   * end offsets are read, and partitions whose position reached them are
   * caught up — those quiet for the idle timeout stop holding watermarks back.
   */
  const advanceTime = async () => {
    const check = plan.beginSourceCheck(Date.now());
    let caughtUp: Set<PartitionId> | undefined;
    if (check.size && assigned) {
      try {
        const admin = await kafkaAdmin();
        if (!startRead) {
          await progress.readStart(admin, groupId);
          startRead = true;
        }
        caughtUp = progress.caughtUp(await progress.readEnds(admin));
      } catch (e) {
        // Without fresh end offsets no partition is released; the next pass tries again.
        tlog.warn({ err: e instanceof Error ? e.message : String(e) }, "could not read source end offsets");
      }
    }
    const started = performance.now();
    const { result, bytes } = await commits.submit(
      async (): Promise<TaskResult> => ({ res: await plan.advanceTime(Date.now(), caughtUp ? { source: { check, caughtUp } } : {}) }),
      // Nothing emitted: the state changes ride along with the next round — unless a watermark marker may be due.
      ({ res }) => res.errors.length > 0 || [...res.sinks.values()].some((rows) => rows.length > 0) || repartitionTopics.size > 0,
    );
    account(result.res, { in: 0, out: bytes }, performance.now() - started);
  };

  // kafkajs heartbeats only between batches; a long one (a slow UDF) would outlast the 6 s session and
  // get the task evicted before it commits, again and again. So heartbeat on a timer while batches run.
  let beat: (() => Promise<void>) | undefined;
  let inFlight = 0;
  // Joins so far: a heartbeat sent before the last (re)join that fails after it says nothing about the group now.
  let joins = 0;
  const heartbeats = setInterval(() => {
    if (inFlight === 0 || !beat) return;
    const sentAt = joins;
    beat().catch((e: { type?: string }) => {
      if (sentAt !== joins) return;
      if (e.type === "REBALANCE_IN_PROGRESS" || e.type === "ILLEGAL_GENERATION" || e.type === "UNKNOWN_MEMBER_ID" || e.type === "NOT_COORDINATOR_FOR_GROUP") rebalancing = true;
    });
  }, 1_000);
  try {
    await producer.connect();
    if (exactlyOnce) {
      // kafkajs sends InitProducerId lazily, at the first transaction() — which
      // would be after the consumer joined and read the committed offsets. A
      // zombie of this task could then still commit a batch we are about to
      // read again. So fence it now, before anything is read: beginning (and
      // abandoning) an empty transaction initialises the producer id, which
      // bumps the epoch and aborts the zombie's open transaction.
      await (await producer.transaction()).abort();
    }
    if (changelog && stage.input) {
      // After fencing, before consuming: rebuild the state of every key group this task owns now (a rescale moves whole key groups).
      plan.assignKeyGroups(keyGroups);
      let entries = 0;
      for (const group of keyGroups) {
        const restored = await readChangelog(kafka, changelog, group);
        plan.restoreKeyGroup(group, restored);
        entries += [...restored.values()].reduce((n, l) => n + l.length, 0);
      }
      tlog.info({ keyGroups: keyGroups.length, entries }, "window state restored");
      await dropOldChangelogs(pipeline.id, deployment.stateEpoch).catch(() => {});
    } else if (changelog) {
      // After fencing (a zombie's open transaction is aborted), before consuming: rebuild the window state.
      const restored = await readChangelog(kafka, changelog, payload.taskIndex);
      plan.restoreFromChanges(restored);
      tlog.info({ entries: [...restored.values()].reduce((n, l) => n + l.length, 0) }, "window state restored");
      await dropOldChangelogs(pipeline.id, deployment.stateEpoch).catch(() => {});
    }
    await consumer.connect();
    await consumer.subscribe({ topics: sourceTopics, fromBeginning: true });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      joins++;
      rebalancing = false;
      watchdog.joined();
      state.partitions = e.payload.memberAssignment;
      if (plan.watermarks) {
        // Every owned partition holds Window watermarks back from now on, fetched or not.
        const byTopic = progress.assign(e.payload.memberAssignment);
        plan.assignPartitions(new Map([...byTopic].map(([topic, ids]) => [topicToStream.get(topic)!, ids])), Date.now());
        assigned = true;
        startRead = false;
      }
      void publish("running");
      tlog.info({ partitions: e.payload.memberAssignment }, "task joined its consumer group");
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      // kafkajs skips batches of only transaction markers or aborted records without calling
      // eachBatch; the position still moves past them (or the partition would never be caught up).
      if (e.payload.batchSize === 0 && e.payload.lastOffset !== null) progress.advance(sourcePartitionId(e.payload.topic, e.payload.partition), BigInt(e.payload.lastOffset) + 1n);
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) crashed = e.payload.error;
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // A fetch's partitions go through the plan one after another and share one commit (group-commit.ts).
      partitionsConsumedConcurrently: 64,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        beat = heartbeat;
        if (rebalancing) {
          // A heartbeat said the group is rebalancing. Ask again rather than skip batches on an old answer:
          // kafkajs's heartbeat throws while the rebalance is on (and kafkajs rejoins); if it returns, go on.
          await heartbeat();
          rebalancing = false;
        }
        const go = () => isRunning() && !isStale() && !stopReason && !crashed && !lockLost() && !rebalancing;
        if (!go() || !batch.messages.length) return;
        inFlight++;
        let done: number;
        try {
          done = await processBatch(batch.topic, batch.partition, batch.messages, BigInt(batch.lastOffset()) + 1n, batch.highWatermark, go);
        } catch (e) {
          // A round that cannot be written (retries exhausted, a failed transaction) fails the task:
          // thrown to kafkajs, it would retry the batch and restart its consumer forever while status
          // said "running". The control loop throws it; the restart policy decides (restart-policy.ts).
          crashed ??= e instanceof Error ? e : new Error(String(e));
          return;
        } finally {
          inFlight--;
        }
        if (!done) return;
        // Only what was processed: kafkajs fetches the rest again.
        const last = batch.messages[done - 1].offset;
        resolveOffset(last);
        metrics.partitionLags.set(`${batch.topic}:${batch.partition}`, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last) - 1n)));
        await heartbeat();
      },
    });

    // Control loop: heartbeat the task state, flush metrics, and watch for stop/redeploy/shutdown.
    let lastFlush = Date.now();
    let lastAccessCheck = Date.now();
    while (!stopReason && !crashed && !commits.halted) {
      if (watchdog.stuck()) {
        throw new TaskFatal(
          `task ${payload.taskIndex} cannot make progress: it processed its batches but lost its consumer-group membership ${watchdog.rejoins} times in a row before it could commit them. ` +
            (udfTimeouts.length ? "Make the UDF faster or lower its timeoutMs, then redeploy." : "Check the worker's logs for what delays its commits, then redeploy."),
        );
      }
      if (Date.now() - lastAccessCheck >= ACCESS_RECHECK_MS) {
        // A revoked grant or a deleted stream stops the pipeline with the reason, not silently.
        lastAccessCheck = Date.now();
        const current = await loadTeamCatalog(team.id);
        // The stage's repartition streams are the pipeline's own (not catalog entries the team could lose).
        const internal = new Set([...(stage.input ? [stage.input.stream] : []), ...[...stage.repartitions.values()].map((r) => r.stream)]);
        const missing = [...plan.sources.values(), ...plan.sinks.values()].find((s) => !internal.has(s) && !current.entries.has(s));
        if (missing) throw new TaskFatal(`stream "${missing}" no longer exists or is no longer visible to team "${team.slug}"`);
        const denied = current.accessDiagnostics(checked.pipeline).find((d) => d.severity === "error");
        if (denied) throw new TaskFatal(`node "${denied.nodeId}": ${denied.message}`);
      }
      const word = await readControl(redis, deployment.id).catch(() => undefined);
      if (word !== undefined && !shouldRun(word, payload.generation)) stopReason = word?.desired === "stopped" ? "stopped" : "superseded";
      if (opts.shutdown.aborted) stopReason = "handoff";
      if (lockLost()) {
        stopReason = "lock-lost";
        break;
      }
      const now = Date.now();
      state.consumerLag = [...metrics.partitionLags.values()].reduce((a, b) => a + b, 0);
      metrics.consumerLag = state.consumerLag;
      metrics.windowOpen = plan.openWindows();
      state.flushedThrough = metrics.flushedThrough;
      if (now - lastRateAt >= 1_000) {
        state.recordsPerSec = ((metrics.totalIn - lastRateIn) * 1000) / (now - lastRateAt);
        state.nodeRecordsPerSec = Object.fromEntries([...metrics.nodeOut].map(([id, n]) => [id, ((n - (lastNodeOut.get(id) ?? 0)) * 1000) / (now - lastRateAt)]));
        lastNodeOut = new Map(metrics.nodeOut);
        lastRateAt = now;
        lastRateIn = metrics.totalIn;
      }
      await publish();
      if ((changelog || plan.watermarks) && !stopReason) await advanceTime();
      if (now - lastFlush >= 5_000) {
        metrics.collect(now);
        lastFlush = now;
      }
      if (!stopReason && !crashed && !commits.halted) await sleepUnless(opts.controlPollMs ?? 500, opts.lockLost);
    }
    if (crashed) throw crashed;
    if (commits.halted) throw commits.halted;
    await publish("stopping");
    tlog.info({ reason: stopReason, instance }, "task stopping");
  } catch (e) {
    if (lockLost()) throw new TaskLockLost();
    // A Kafka connection failure (wrong credentials, untrusted certificate) names the setting to fix.
    const message = explainKafkaConnectionError(e)?.message ?? (e instanceof Error ? e.message : String(e));
    await recordTaskError(redis, deployment.id, `task ${payload.taskIndex}: ${message}`).catch(() => {});
    state.lastError = message;
    await publish("failed");
    throw e;
  } finally {
    clearInterval(heartbeats);
    // disconnect() waits for the batch in flight: its output and offsets are committed (or aborted) before we leave.
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await metrics.close().catch(() => {});
    plan.dispose();
  }
  if (stopReason === "lock-lost" || lockLost()) throw new TaskLockLost();
  if (stopReason === "handoff") {
    await clearTaskState(redis, deployment.id, payload.taskIndex, stageId).catch(() => {});
    throw new TaskHandoff();
  }
  await publish("stopped");
  return stopReason === "stopped" ? "stopped" : "superseded";
}
