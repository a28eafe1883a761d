import type { Redis } from "ioredis";
import { Prisma, type AlertRule } from "@prisma/client";
import { clickhouse, clickhouseUrl } from "@/lib/clickhouse/client";
import { literal, raw, sql } from "@/lib/clickhouse/sql";
import { prisma } from "@/lib/db/prisma";
import { kafkaAdmin } from "@/lib/kafka/shared";
import { moduleLogger } from "@/lib/log/logger";
import { nodeCountsByDeployment } from "@/lib/metrics/node-metrics";
import { balanceMinutes, type StoredGraph } from "@/lib/metrics/reconciliation";
import { flowGraphsFor, settledBefore } from "@/lib/monitor/reconciliation";
import { MAIN_STAGE_ID, repartitionStreamName, stageConsumerGroupId } from "@/lib/runtime/naming";
import { readTaskStates } from "@/lib/runtime/task-state";
import { accessOf } from "@/lib/warehouse/access";
import { CONDITIONS, step, type EventKind, type RuleState } from "./conditions";
import { enqueueDeliveries } from "./deliveries";
import { holdMs, observe, type PipelineFacts, type StreamFacts, type StreamMemory } from "./observe";

const log = moduleLogger("alert-evaluator");

/**
 * One evaluation round over every enabled rule, run every 10 s by the worker
 * holding the reconciler lease (so one evaluator at a time; another worker
 * takes over within the lease TTL when it dies). Facts for all rules come
 * from a handful of batched reads — one Postgres query for the rules, one
 * Redis MGET for live task states, one ClickHouse query for per-minute
 * counts, one for task failures, Kafka offsets per distinct topic/group —
 * then each rule steps its state machine in memory. Only transitions write
 * rows: compare-and-set on `stateVersion`, with the event and its deliveries
 * in the same transaction, so a failover mid-round can neither lose nor
 * repeat a notification. Values and stream memory go back in one statement.
 */
export interface RoundResult {
  rules: number;
  transitions: { ruleId: string; event: EventKind }[];
  ms: number;
}

type RuleRow = AlertRule & {
  team: { slug: string };
  pipeline: (Prisma.PipelineGetPayload<{ include: { deployment: { include: { version: true } } } }>) | null;
  stream: (Prisma.StreamGetPayload<{ include: { grants: true } }>) | null;
};

/** Minutes of counts fetched per deployment: enough for the longest window any of its rules asks for. */
function countsWindowSec(rules: RuleRow[]): number {
  return Math.max(180, ...rules.filter((r) => r.condition === "no_input").map((r) => r.forSeconds + 120));
}

async function countsByMinute(deployments: { id: string; sources: string[] }[], fromSec: number): Promise<Map<string, { reads: Map<number, number>; errored: Map<number, number> }>> {
  const out = new Map<string, { reads: Map<number, number>; errored: Map<number, number> }>();
  if (!deployments.length || !clickhouseUrl()) return out;
  const sources = deployments.flatMap((d) => d.sources.map((n) => `(${literal(d.id)}, ${literal(n)})`));
  const rs = await clickhouse().query({
    query: sql`
      SELECT deployment_id, toUnixTimestamp(minute) AS t,
             ${raw(sources.length ? `sumIf(records_in, (deployment_id, node_id) IN (${sources.join(", ")}))` : "0")} AS reads,
             sum(records_errored) AS errored
      FROM node_metrics
      WHERE deployment_id IN ${deployments.map((d) => d.id)} AND minute >= toDateTime(${fromSec})
      GROUP BY deployment_id, t`,
    format: "JSONEachRow",
  });
  for (const r of await rs.json<{ deployment_id: string; t: number; reads: string; errored: string }>()) {
    let m = out.get(r.deployment_id);
    if (!m) out.set(r.deployment_id, (m = { reads: new Map(), errored: new Map() }));
    m.reads.set(Number(r.t), Number(r.reads));
    m.errored.set(Number(r.t), Number(r.errored));
  }
  return out;
}

/** Committed-offset lag of a consumer group over its topics, straight from Kafka (works while no task runs). */
async function groupLag(groupId: string, topics: string[], highs: Map<string, Map<number, number>>, lows: Map<string, Map<number, number>>): Promise<number | null> {
  if (!topics.length) return 0;
  const admin = await kafkaAdmin();
  const committed = await admin.fetchOffsets({ groupId, topics });
  let lag = 0;
  for (const t of committed) {
    const high = highs.get(t.topic);
    const low = lows.get(t.topic);
    if (!high) return null;
    for (const p of t.partitions) {
      const h = high.get(p.partition) ?? 0;
      const c = Number(p.offset) >= 0 ? Number(p.offset) : low?.get(p.partition) ?? 0;
      lag += Math.max(0, h - c);
    }
  }
  return lag;
}

export async function evaluateAlertsOnce(redis: Redis, now = Date.now()): Promise<RoundResult> {
  const started = performance.now();
  const rules = (await prisma().alertRule.findMany({
    where: { enabled: true },
    include: { team: { select: { slug: true } }, pipeline: { include: { deployment: { include: { version: true } } } }, stream: { include: { grants: true } } },
  })) as RuleRow[];
  if (!rules.length) return { rules: 0, transitions: [], ms: performance.now() - started };

  // --- Pipelines: live task states (Redis), counts (ClickHouse), failures (Postgres), lag (Kafka when not live).
  const pipelineRules = rules.filter((r) => r.pipeline);
  const deployments = new Map<string, NonNullable<NonNullable<RuleRow["pipeline"]>["deployment"]>>();
  for (const r of pipelineRules) if (r.pipeline!.deployment) deployments.set(r.pipeline!.deployment.id, r.pipeline!.deployment);
  const deploymentList = [...deployments.values()];
  const byDeployment = new Map<string, RuleRow[]>();
  for (const r of pipelineRules) {
    const id = r.pipeline!.deployment?.id;
    if (id) byDeployment.set(id, [...(byDeployment.get(id) ?? []), r]);
  }
  const rulesOf = (d: string) => byDeployment.get(d) ?? [];
  const graphOf = (d: (typeof deploymentList)[number]) => d.version.graph as StoredGraph;
  // Keyed scale-out: every stage runs `parallelism` tasks (docs/runtime.md "Stages").
  const stagesOf = (d: (typeof deploymentList)[number]) => (d.stages.length ? d.stages : [MAIN_STAGE_ID]);

  const states = new Map(
    await Promise.all(deploymentList.map(async (d) => [d.id, (await readTaskStates(redis, d.id, d.parallelism, stagesOf(d))).filter((s) => s.generation === d.generation)] as const)),
  );
  const needsCounts = deploymentList.filter((d) => rulesOf(d.id).some((r) => r.condition === "error_rate" || r.condition === "no_input"));
  const windowSec = countsWindowSec(pipelineRules);
  const failureWindowMs = Math.max(0, ...pipelineRules.filter((r) => r.condition === "task_failures").map((r) => r.forSeconds * 1000));
  const reconDeployments = deploymentList.filter((d) => rulesOf(d.id).some((r) => r.condition === "reconciliation_mismatch"));

  const [counts, failures, mismatches] = await Promise.all([
    countsByMinute(needsCounts.map((d) => ({ id: d.id, sources: (graphOf(d).nodes ?? []).filter((n) => n.type === "source").map((n) => n.id) })), Math.floor(now / 1000) - windowSec).catch((err) => {
      log.warn({ err }, "could not read metrics for alert rules");
      return null;
    }),
    failureWindowMs
      ? prisma().taskEvent.findMany({ where: { deploymentId: { in: deploymentList.map((d) => d.id) }, kind: { in: ["failed", "gave_up"] }, createdAt: { gte: new Date(now - failureWindowMs) } }, select: { deploymentId: true, createdAt: true } })
      : Promise.resolve([]),
    (async () => {
      if (!reconDeployments.length) return new Map<string, number[]>();
      // One ClickHouse query and two Postgres queries for every deployment with a reconciliation rule.
      const windowOf = (id: string) => Math.max(...rulesOf(id).filter((r) => r.condition === "reconciliation_mismatch").map((r) => r.forSeconds));
      const from = Math.floor((now / 1000 - Math.max(...reconDeployments.map((d) => windowOf(d.id)))) / 60) * 60 - 60;
      const rows = await nodeCountsByDeployment(clickhouse(), reconDeployments.map((d) => d.id), from, Math.ceil(now / 60_000) * 60);
      const graphs = await flowGraphsFor(reconDeployments.map((d) => ({ pipelineId: d.pipelineId, teamId: rulesOf(d.id)[0].teamId, versions: [...new Set(rows.get(d.id)!.map((r) => r.version))] })));
      const settled = await Promise.all(reconDeployments.map((d) => settledBefore(redis, d, now)));
      return new Map(
        reconDeployments.map((d, i) => {
          const minutes = balanceMinutes(rows.get(d.id)!, (v) => graphs.get(d.pipelineId)?.get(v), settled[i]);
          return [d.id, minutes.filter((m) => m.status === "mismatch").map((m) => m.t)] as const;
        }),
      );
    })().catch((err) => {
      log.warn({ err }, "could not reconcile for alert rules");
      return null;
    }),
  ]);

  // Consumer lag from Kafka for deployments whose tasks are not all live (stopped, failed, restarting).
  const lagRules = pipelineRules.filter((r) => r.condition === "consumer_lag" && r.pipeline!.deployment);
  const notLive = [...new Set(lagRules.map((r) => r.pipeline!.deployment!))].filter((d) => {
    const s = states.get(d.id) ?? [];
    return d.desiredState !== "running" || s.length < d.parallelism * stagesOf(d).length || s.some((x) => x.phase !== "running");
  });
  /** What each stage's consumer group reads: main the pipeline's sources, a Window's stage its repartition stream. */
  const groupsOf = (d: (typeof notLive)[number]) =>
    stagesOf(d).map((stage) => ({
      groupId: stageConsumerGroupId(d.pipelineId, stage),
      streams: stage === MAIN_STAGE_ID ? (graphOf(d).nodes ?? []).filter((n) => n.type === "source").map((n) => String((n.config as { stream?: string } | undefined)?.stream)) : [repartitionStreamName(d.pipelineId, stage)],
    }));
  const sourceStreams = [...new Set(notLive.flatMap((d) => groupsOf(d).flatMap((g) => g.streams)))];
  const streamTopics = sourceStreams.length ? new Map((await prisma().stream.findMany({ where: { name: { in: sourceStreams } }, select: { name: true, topic: true } })).map((s) => [s.name, s.topic])) : new Map<string, string>();

  // --- Streams: high watermarks per distinct topic (only for streams the rule's team may still read).
  const streamRules = rules.filter((r) => r.stream);
  const readable = (r: RuleRow) => {
    const a = accessOf(r.stream!, r.teamId);
    return a === "owner" || a === "read";
  };
  const topics = [...new Set([...streamRules.filter(readable).map((r) => r.stream!.topic), ...streamTopics.values()])];
  const highs = new Map<string, Map<number, number>>();
  const lows = new Map<string, Map<number, number>>();
  if (topics.length) {
    const admin = await kafkaAdmin().catch(() => undefined);
    await Promise.all(
      topics.map(async (topic) => {
        try {
          const offsets = await admin!.fetchTopicOffsets(topic);
          highs.set(topic, new Map(offsets.map((o) => [o.partition, Number(o.high)])));
          lows.set(topic, new Map(offsets.map((o) => [o.partition, Number(o.low)])));
        } catch (err) {
          log.warn({ topic, err: (err as Error).message }, "could not read offsets for alert rules");
        }
      }),
    );
  }
  const kafkaLag = new Map(
    await Promise.all(
      notLive.map(async (d) => {
        // Records behind in every stage: a stopped Window stage falls behind on its repartition stream too.
        const lags = await Promise.all(
          groupsOf(d).map((g) => groupLag(g.groupId, [...new Set(g.streams.map((s) => streamTopics.get(s)).filter((t): t is string => !!t))], highs, lows).catch(() => null)),
        );
        return [d.id, lags.some((l) => l === null) ? null : lags.reduce<number>((a, l) => a + (l ?? 0), 0)] as const;
      }),
    ),
  );

  const factsOf = (r: RuleRow): PipelineFacts | StreamFacts => {
    if (r.stream) {
      const high = readable(r) ? highs.get(r.stream.topic) : undefined;
      return { kind: "stream", high: high ? [...high.values()].reduce((a, b) => a + b, 0) : null };
    }
    const d = r.pipeline!.deployment;
    const live = d ? states.get(d.id) ?? [] : [];
    const c = d && counts ? counts.get(d.id) ?? { reads: new Map(), errored: new Map() } : null;
    return {
      kind: "pipeline",
      deployed: !!d,
      desiredState: d?.desiredState ?? null,
      actualState: d?.actualState ?? null,
      consumerLag: !d ? null : kafkaLag.has(d.id) ? kafkaLag.get(d.id)! : live.reduce((a, s) => a + s.consumerLag, 0),
      // Records read from the pipeline's sources: the main stage's tasks (a Window stage reads the repartition stream).
      recordsPerSec: live.filter((s) => (s.stage ?? MAIN_STAGE_ID) === MAIN_STAGE_ID).reduce((a, s) => a + s.recordsPerSec, 0),
      readsByMinute: d ? c?.reads ?? null : new Map(),
      erroredByMinute: d ? c?.errored ?? null : new Map(),
      failures: d ? failures.filter((f) => f.deploymentId === d.id).map((f) => f.createdAt.getTime()) : [],
      mismatchedMinutes: d ? mismatches?.get(d.id) ?? (mismatches ? [] : null) : [],
    };
  };

  // --- Step every rule; write transitions one by one (rare), everything else in one statement.
  const transitions: RoundResult["transitions"] = [];
  const values: { id: string; value: number | null; memory: StreamMemory | null }[] = [];
  const deliveries: string[] = [];
  for (const r of rules) {
    const o = observe({ condition: r.condition, threshold: r.threshold, forSeconds: r.forSeconds, createdAt: r.createdAt.getTime(), memory: (r.memory ?? {}) as StreamMemory }, factsOf(r), now);
    values.push({ id: r.id, value: o.value, memory: o.memory ?? null });
    const next = step(r.state as RuleState, r.stateSince?.getTime() ?? null, o.holds, holdMs(r.condition, r.forSeconds), now);
    if (next.state === r.state && (next.since ?? null) === (r.stateSince?.getTime() ?? null)) continue;
    const created = await prisma().$transaction(async (tx) => {
      const won = await tx.alertRule.updateMany({
        where: { id: r.id, stateVersion: r.stateVersion },
        data: { state: next.state, stateSince: next.since === null ? null : new Date(next.since), stateVersion: { increment: 1 } },
      });
      if (!won.count || !next.event) return [];
      const target = r.pipeline ? `pipeline ${r.pipeline.name}` : `stream ${r.stream?.name}`;
      const what = CONDITIONS[r.condition].describe(r.threshold, r.forSeconds);
      const message = next.event === "resolved" ? `Resolved: ${r.name} on ${target} (${what}) is back to normal${o.value !== null ? ` — now ${o.value}` : ""}.` : `${next.event === "firing" ? "Firing" : "Pending"}: ${r.name} on ${target} — ${what}${o.value !== null ? ` (now ${o.value})` : ""}.`;
      const event = await tx.alertEvent.create({ data: { ruleId: r.id, teamId: r.teamId, kind: next.event, value: o.value, message } });
      if (next.event === "pending") return [];
      const channels = await tx.alertRuleChannel.findMany({ where: { ruleId: r.id } });
      const rows = await Promise.all(channels.map((c) => tx.alertDelivery.create({ data: { eventId: event.id, channelId: c.channelId }, select: { id: true } })));
      return rows.map((x) => x.id);
    });
    if (next.event) transitions.push({ ruleId: r.id, event: next.event });
    deliveries.push(...created);
  }
  if (values.length) {
    const rows = values.map((v) => Prisma.sql`(${v.id}, ${v.value}::double precision, ${v.memory === null ? null : JSON.stringify(v.memory)}::jsonb)`);
    await prisma().$executeRaw`
      UPDATE alert_rules AS r SET "lastValue" = v.value, "lastEvaluatedAt" = ${new Date(now)}, memory = COALESCE(v.memory, r.memory)
      FROM (VALUES ${Prisma.join(rows)}) AS v(id, value, memory)
      WHERE r.id = v.id`;
  }
  await enqueueDeliveries(deliveries).catch((err) => log.warn({ err }, "could not enqueue alert deliveries; the next round retries"));
  return { rules: rules.length, transitions, ms: performance.now() - started };
}

/**
 * Deliveries whose job was lost (the evaluator died between committing a
 * transition and enqueueing its notifications) are enqueued again; BullMQ
 * drops the ones still queued (same job id).
 */
export async function requeueStrandedDeliveries(now = Date.now()): Promise<number> {
  const stranded = await prisma().alertDelivery.findMany({ where: { status: "pending", attempts: 0, createdAt: { lt: new Date(now - 30_000), gt: new Date(now - 86_400_000) } }, select: { id: true }, take: 1_000 });
  await enqueueDeliveries(stranded.map((d) => d.id));
  return stranded.length;
}
