/**
 * npm run bench -- alerts   [--rules=1000] [--rounds=7]
 *
 * The alert evaluator's round time with 1,000 rules (goal < 1 s per round),
 * beside a round with 10 rules in the same run (the fixed cost), on real
 * Postgres, Redis, ClickHouse and the broker started in a temp dir.
 *
 * The rules watch 250 deployed pipelines, one of each condition in turn
 * (consumer lag, error rate, no input, task failures, reconciliation
 * mismatch, throughput floor) plus stream rules. 90% of the deployments have
 * live task states in Redis and per-minute counts in ClickHouse (as running
 * tasks write them); 10% are stopped, so their consumer lag is read from
 * Kafka's committed offsets. Reported: the first round (every rule that
 * holds goes pending: a transition each) and the steady rounds after it.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import getPort from "get-port";
import { startStack, type Stack } from "../services/local-stack";

const root = fileURLToPath(new URL("../..", import.meta.url));
const arg = (name: string, fallback: number) => Number(process.argv.find((x) => x.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const RULES = arg("rules", 1_000);
const ROUNDS = arg("rounds", 7);
const PIPELINES = Math.ceil(RULES / 4);

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-alerts-"));
  chmodSync(dir, 0o755);
  const secret = () => randomBytes(16).toString("hex");
  const stack: Stack = await startStack({
    root, dataDir: dir, external: {},
    ports: { postgres: await getPort(), redis: await getPort(), clickhouseHttp: await getPort(), clickhouseTcp: await getPort(), kafka: await getPort() },
    secrets: { postgresPassword: secret(), redisPassword: secret(), clickhousePassword: secret() },
  });
  Object.assign(process.env, stack.env, { BETTER_AUTH_SECRET: randomBytes(32).toString("base64"), SLUICE_URL: "http://localhost:3000", LOG_LEVEL: "silent" });
  try {
    const { prisma } = await import("@/lib/db/prisma");
    const { createUser } = await import("@/lib/users/create-user");
    const { createTeam } = await import("@/lib/teams/teams");
    const { createStream } = await import("@/lib/warehouse/streams");
    const { createPipeline, saveVersion } = await import("@/lib/pipelines/pipelines");
    const { clickhouse } = await import("@/lib/clickhouse/client");
    const { createRedis } = await import("@/lib/redis/client");
    const { minuteOf } = await import("@/lib/metrics/node-metrics");
    const { evaluateAlertsOnce } = await import("@/lib/alerts/evaluator");
    const { QUEUE_PREFIX } = await import("@/lib/queue/contracts");
    const u = await createUser({ email: "bench@example.test", name: "Bench", password: randomBytes(18).toString("base64url") });
    const principal = { kind: "user" as const, userId: u.id, email: u.email, name: u.name };
    await createTeam(principal, { name: "Bench", slug: "bench" });
    const team = await prisma().team.findUniqueOrThrow({ where: { slug: "bench" } });
    const schema = [{ name: "id", type: "string" }, { name: "amount", type: "float" }];
    await createStream(principal, "bench", { name: "ods.bench-in", layer: "ODS", partitions: 4, schema: schema as never, retentionMs: null });
    await createStream(principal, "bench", { name: "dwd.bench-out", layer: "DWD", partitions: 1, schema: schema as never, retentionMs: null });
    const streamIds = (await prisma().stream.findMany({ where: { ownerTeamId: team.id }, select: { id: true } })).map((s) => s.id);
    const graph = {
      version: 1,
      nodes: [
        { id: "src", type: "source", config: { stream: "ods.bench-in" }, position: { x: 0, y: 0 } },
        { id: "f", type: "filter", config: { predicate: "amount > 1.0" }, position: { x: 1, y: 0 } },
        { id: "out", type: "sink", config: { stream: "dwd.bench-out" }, position: { x: 2, y: 0 } },
      ],
      edges: [{ source: "src", target: "f" }, { source: "f", target: "out" }],
    };

    // Pipelines and their deployments (rows as deploy() writes them; no task runs: their state is seeded below).
    console.error(`seeding ${PIPELINES} pipelines and ${RULES} rules…`);
    const deployments: { id: string; running: boolean }[] = [];
    for (let i = 0; i < PIPELINES; i++) {
      const name = `p-${i}`;
      await createPipeline(principal, "bench", { name });
      await saveVersion(principal, "bench", name, { pipeline: graph });
      const p = await prisma().pipeline.findFirstOrThrow({ where: { teamId: team.id, name }, include: { versions: true } });
      const running = i % 10 !== 0;
      const d = await prisma().deployment.create({ data: { pipelineId: p.id, versionId: p.versions[0].id, parallelism: 2, desiredState: running ? "running" : "stopped", actualState: running ? "running" : "stopped", generation: 1 } });
      deployments.push({ id: d.id, running });
    }
    const pipelines = await prisma().pipeline.findMany({ where: { teamId: team.id }, orderBy: { name: "asc" } });
    const conditions = ["consumer_lag", "error_rate", "no_input", "task_failures", "reconciliation_mismatch", "throughput_below"] as const;
    const rules = Array.from({ length: RULES }, (_, i) => {
      const stream = i % 50 === 49;
      const condition = stream ? (i % 100 === 99 ? "no_input" : "throughput_below") : conditions[i % conditions.length];
      return {
        teamId: team.id, name: `rule-${i}`, condition, forSeconds: condition === "consumer_lag" || condition === "error_rate" || condition === "throughput_below" ? 60 : 600,
        threshold: condition === "consumer_lag" ? 500 : condition === "error_rate" ? 1 : condition === "throughput_below" ? 10 : 3,
        ...(stream ? { streamId: streamIds[i % streamIds.length] } : { pipelineId: pipelines[i % pipelines.length].id }),
        createdAt: new Date(Date.now() - 3_600_000),
      };
    });
    await prisma().alertRule.createMany({ data: rules });

    // What running tasks leave behind: live state in Redis, per-minute counts in ClickHouse.
    const redis = createRedis();
    const now = Date.now();
    const multi = redis.multi();
    for (const d of deployments.filter((x) => x.running)) {
      for (let t = 0; t < 2; t++) {
        multi.set(`${QUEUE_PREFIX}:task:${d.id}:${t}`, JSON.stringify({ deploymentId: d.id, taskIndex: t, generation: 1, phase: "running", workerId: "w", startedAt: now - 3_600_000, heartbeatAt: now, partitions: {}, recordsIn: 1000, recordsOut: 900, recordsErrored: 5, consumerLag: (t + 1) * 100, recordsPerSec: 50, flushedThrough: now - 2_000 }), "PX", 3_600_000);
      }
    }
    await multi.exec();
    const rows = [];
    for (const d of deployments.filter((x) => x.running)) {
      for (let m = 1; m <= 15; m++) {
        const base = { minute: minuteOf(now - m * 60_000), deployment_id: d.id, pipeline_id: "p", version: 1, records_late: 0, bytes_in: 0, bytes_out: 0 };
        for (let t = 0; t < 2; t++) {
          rows.push({ ...base, task_index: t, node_id: "src", records_in: 3000, records_out: 2990, records_filtered: 0, records_errored: 10 });
          rows.push({ ...base, task_index: t, node_id: "f", records_in: 2990, records_out: 2000, records_filtered: 990, records_errored: 0 });
          rows.push({ ...base, task_index: t, node_id: "out", records_in: 2000, records_out: 2000, records_filtered: 0, records_errored: 0 });
        }
      }
    }
    await clickhouse().insert({ table: "node_metrics", values: rows, format: "JSONEachRow" });

    const rounds = async (label: string, n: number) => {
      const times: number[] = [];
      let first: { ms: number; transitions: number } | undefined;
      for (let i = 0; i < n; i++) {
        const r = await evaluateAlertsOnce(redis);
        if (i === 0) first = { ms: r.ms, transitions: r.transitions.length };
        else times.push(r.ms);
      }
      times.sort((a, b) => a - b);
      return { label, first: first!, median: times[Math.floor(times.length / 2)], max: times[times.length - 1], rules: 0 };
    };
    // The fixed cost: 10 rules enabled.
    const ids = (await prisma().alertRule.findMany({ where: { teamId: team.id }, select: { id: true }, orderBy: { name: "asc" } })).map((r) => r.id);
    await prisma().alertRule.updateMany({ where: { id: { in: ids.slice(10) } }, data: { enabled: false } });
    const small = await rounds("10 rules", ROUNDS);
    await prisma().alertRule.updateMany({ where: { id: { in: ids } }, data: { enabled: true, state: "ok", stateSince: null } });
    const big = await rounds(`${RULES.toLocaleString("en")} rules`, ROUNDS);
    console.log(`| Alert evaluator round (${PIPELINES} pipelines, ${Math.round(PIPELINES / 10)} stopped) | first round ms (transitions) | steady round ms, median | max | per rule, µs |`);
    console.log("|---|---|---|---|---|");
    for (const r of [small, big]) {
      const n = r === small ? 10 : RULES;
      console.log(`| ${r.label} | ${Math.round(r.first.ms)} (${r.first.transitions}) | ${Math.round(r.median)} | ${Math.round(r.max)} | ${Math.round(((r.median - (r === big ? small.median : 0)) * 1000) / n)} |`);
    }
    console.log(`\n${RULES} rules: ${(big.median / small.median).toFixed(1)}× the 10-rule round; goal < 1,000 ms per round: ${big.median < 1_000 && big.first.ms < 1_000 ? "met" : "NOT met"}`);
    redis.disconnect();
    if (big.median >= 1_000) process.exitCode = 1;
  } finally {
    const { closeKafka } = await import("@/lib/kafka/shared");
    const { disconnectPrisma } = await import("@/lib/db/prisma");
    const { closeRedis } = await import("@/lib/redis/client");
    const { closeClickHouse } = await import("@/lib/clickhouse/client");
    const { closeDeliveryQueue } = await import("@/lib/alerts/deliveries");
    await Promise.allSettled([closeKafka(), disconnectPrisma(), closeRedis(), closeClickHouse(), closeDeliveryQueue()]);
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
