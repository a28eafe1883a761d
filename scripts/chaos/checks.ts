import type { Admin, Kafka } from "kafkajs";
import { clickhouse } from "@/lib/clickhouse/client";
import type { ReadRecord } from "@/lib/kafka/partition-reader";
import { nodeCounts } from "@/lib/metrics/node-metrics";
import { balanceMinutes } from "@/lib/metrics/reconciliation";
import { flowGraphsOf } from "@/lib/monitor/reconciliation";
import { compilePipeline } from "@/lib/compiler";
import { loadTeamCatalog } from "@/lib/pipelines/catalog-context";
import { checkPipeline } from "@/lib/pipelines/pipelines";
import { compareMultisets, orderViolations, recordIdentity, type Comparison } from "./compare";
import { deploymentId, type ChaosTeam, type DeployedPipeline } from "./pipelines";
import { readTopic, runReference, type ReferenceMeta } from "./reference";
import { END_KEY, ID_HEADER, SOURCES } from "./workload";

/**
 * The checks after the producer stopped and the pipelines drained: every sink
 * against the reference (exactly as multisets under exactly_once, containing
 * every reference record under at_least_once), dead letters likewise, no
 * acknowledged produce lost, the per-node reconciliation balanced, no task
 * stuck, no transaction left hanging.
 */
export interface SinkCheck {
  pipeline: string;
  guarantee: string;
  stream: string;
  comparison: Comparison;
  orderViolations?: number;
  openTransactions: number;
}

export interface PipelineCheck {
  pipeline: string;
  guarantee: string;
  sinks: SinkCheck[];
  deadLetters: Comparison;
  /** Malformed source records (undecodable or off-schema) among the dead letters the reference expects. */
  malformed: number;
  unbalancedMinutes: { minute: string; nodeId: string; unaccounted: number }[];
  /** Set by the run when a task was not running after the drain. */
  stuck?: string;
}

export interface CheckReport {
  sourceRecords: number;
  acknowledged: number;
  acknowledgedLost: number;
  lostSamples: string[];
  /** Records present more than once in a source (a producer retry after an ambiguous failure). */
  sourceDuplicates: number;
  pipelines: PipelineCheck[];
  /** records lost: acknowledged produces missing + reference records missing from sinks and dead letters. */
  lost: number;
  exactlyOnceDuplicates: number;
  unexpected: number;
  orderViolations: number;
  unbalanced: number;
  stuck: number;
  openTransactions: number;
}

const idOf = (r: ReadRecord) => r.headers[ID_HEADER] ?? `${r.topic}:${r.partition}@${r.offset}`;

const dlqIdentity = (nodeId: string, reason: string, s: { topic: string; partition: number; offset: string } | null | undefined) => `${nodeId} ${s ? `${s.topic}:${s.partition}@${s.offset}` : "-"} ${reason}`;

export async function runChecks(kafka: Kafka, admin: Admin, team: ChaosTeam, acked: ReadonlySet<string>): Promise<CheckReport> {
  const sources = new Map<string, ReadRecord[]>();
  for (const s of SOURCES) sources.set(s.name, (await readTopic(kafka, admin, s.name)).records);
  const allSource = [...sources.values()].flat();
  const seen = new Map<string, number>();
  for (const r of allSource) seen.set(idOf(r), (seen.get(idOf(r)) ?? 0) + 1);
  const lostIds = [...acked].filter((id) => !seen.has(id));
  const report: CheckReport = {
    sourceRecords: allSource.length,
    acknowledged: acked.size,
    acknowledgedLost: lostIds.length,
    lostSamples: lostIds.slice(0, 5),
    sourceDuplicates: [...seen.values()].reduce((n, c) => n + c - 1, 0),
    pipelines: [],
    lost: lostIds.length,
    exactlyOnceDuplicates: 0,
    unexpected: 0,
    orderViolations: 0,
    unbalanced: 0,
    stuck: 0,
    openTransactions: 0,
  };

  const catalog = await loadTeamCatalog(team.teamId);
  for (const p of team.pipelines) report.pipelines.push(await checkPipelineOutput(kafka, admin, team, p, catalog.ctx, sources, report));
  return report;
}

async function checkPipelineOutput(
  kafka: Kafka,
  admin: Admin,
  team: ChaosTeam,
  p: DeployedPipeline,
  ctx: Awaited<ReturnType<typeof loadTeamCatalog>>["ctx"],
  sources: Map<string, ReadRecord[]>,
  report: CheckReport,
): Promise<PipelineCheck> {
  const eo = p.spec.guarantee === "exactly_once";
  const checked = await checkPipeline(team.teamId, p.spec.definition);
  const plan = compilePipeline(checked.pipeline!, ctx, { checkSourceSchema: true });
  const inputs = new Map(p.sourceTopics.map((t) => [t, sources.get(t)!]));
  const ref = await runReference(plan, inputs).finally(() => plan.dispose());

  const sinks: SinkCheck[] = [];
  for (const [sinkId, stream] of plan.sinks) {
    const got = await readTopic(kafka, admin, stream);
    const expected = ref.sinks.get(sinkId)!;
    const comparison = compareMultisets(
      expected.map((r) => recordIdentity(r.key, r.value)),
      got.records.map((r) => recordIdentity(r.key?.toString("utf8") ?? null, r.value)),
    );
    const check: SinkCheck = { pipeline: p.spec.name, guarantee: p.spec.guarantee, stream, comparison, openTransactions: got.openTransactions.length };
    if (eo && !p.spec.stateful && p.sourceTopics.length === 1) {
      // The closing records share one key across partitions (END_KEY): no order between them is promised.
      const exp = expected.filter((r) => r.key !== END_KEY).map((r) => ({ key: r.key ?? "", id: recordIdentity(r.key, r.value) }));
      const act = got.records.filter((r) => r.key?.toString("utf8") !== END_KEY).map((r) => ({ key: r.key?.toString("utf8") ?? "", id: recordIdentity(r.key?.toString("utf8") ?? null, r.value) }));
      check.orderViolations = orderViolations(exp, act).keys;
      report.orderViolations += check.orderViolations;
    }
    report.lost += comparison.missing;
    report.unexpected += comparison.unexpected;
    if (eo) report.exactlyOnceDuplicates += comparison.duplicates;
    report.openTransactions += check.openTransactions;
    sinks.push(check);
  }

  const dlq = await readTopic(kafka, admin, p.deadLetterTopic);
  const deadLetters = compareMultisets(
    ref.errors.map((e) => dlqIdentity(e.nodeId, e.reason, e.source as ReferenceMeta | undefined)),
    dlq.records.map((r) => {
      const d = JSON.parse(r.value!.toString("utf8")) as { nodeId: string; reason: string; source: { topic: string; partition: number; offset: string } | null };
      return dlqIdentity(d.nodeId, d.reason, d.source);
    }),
  );
  report.lost += deadLetters.missing;
  report.unexpected += deadLetters.unexpected;
  if (eo) report.exactlyOnceDuplicates += deadLetters.duplicates;
  report.openTransactions += dlq.openTransactions.length;
  const sourceNodes = new Set(plan.sources.keys());
  const malformed = ref.errors.filter((e) => sourceNodes.has(e.nodeId)).length;

  // Reconciliation (lib/metrics/reconciliation.ts, as the Monitor shows it): every node and edge of every
  // minute, over every task, stage and generation. The pipelines drained, so every minute is settled.
  const id = await deploymentId(p);
  const counts = await nodeCounts(clickhouse(), id, 0, Math.ceil(Date.now() / 60_000) * 60 + 60);
  const graphs = await flowGraphsOf(p.pipelineId, team.teamId, [...new Set(counts.map((r) => r.version))]);
  const unbalancedMinutes = balanceMinutes(counts, (v) => graphs.get(v), Number.MAX_SAFE_INTEGER)
    .filter((m) => m.status === "mismatch")
    .flatMap((m) => m.problems.map((x) => ({ minute: new Date(m.t * 1000).toISOString().slice(0, 16), nodeId: x.nodeId, unaccounted: x.difference })));
  report.unbalanced += unbalancedMinutes.length;

  return { pipeline: p.spec.name, guarantee: p.spec.guarantee, sinks, deadLetters, malformed, unbalancedMinutes };
}
