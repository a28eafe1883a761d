// First, before anything loads kafkajs (see the module).
import "@/lib/kafka/linear-grouping";
import { randomBytes } from "node:crypto";
import { logLevel } from "kafkajs";
import { cpus, hostname, totalmem } from "node:os";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeClickHouse } from "@/lib/clickhouse/client";
import { disconnectPrisma } from "@/lib/db/prisma";
import { createKafka } from "@/lib/kafka/client";
import { closeKafka } from "@/lib/kafka/shared";
import { stop as stopPipeline } from "@/lib/pipelines/deployments";
import { pipelineStatus } from "@/lib/pipelines/status";
import { closeRedis } from "@/lib/redis/client";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { runChecks, type CheckReport } from "./checks";
import { FaultInjector } from "./faults";
import { ProgressMonitor, withoutTrailingMarkers } from "./monitor";
import { setUpPipelines, TEAM, waitAllRunning, type ChaosTeam } from "./pipelines";
import { ChaosProducer } from "./producer";
import { Random } from "./random";
import { failures, faultLog, recoveryTable, sinkTable, summaryLine } from "./report";
import { planFaults } from "./schedule";
import { ChaosStack } from "./stack";
import { SOURCES } from "./workload";

export interface ChaosOptions {
  root: string;
  minutes: number;
  seed: number;
  workers: number;
  keep: boolean;
}

/** Longest the pipelines may take to drain after the producer stops. */
const DRAIN_TIMEOUT_MS = 300_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One chaos run end to end; resolves with the process exit status and the closing line (printed last by the caller). */
export async function runChaos(opts: ChaosOptions): Promise<{ status: number; summary?: string }> {
  const started = Date.now();
  const print = (line: string) => process.stdout.write(line + "\n");
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
  print(`chaos: ${opts.minutes} min, seed ${opts.seed}, ${opts.workers} workers — starting a throwaway stack`);
  // Each worker can host every task alone: losing two workers at once still leaves room for all of them.
  const stack = await ChaosStack.start({ root: opts.root, workers: opts.workers, workerSlots: 32 });
  const log = (line: string) => {
    print(line);
    stack.note(line);
  };
  log(`chaos: stack up in ${elapsed()} (data and logs in ${stack.dir})`);
  Object.assign(process.env, stack.env, { SLUICE_URL: "http://localhost:3000", BETTER_AUTH_SECRET: randomBytes(32).toString("base64") });

  let status = 1;
  let summary: string | undefined;
  let producer: ChaosProducer | undefined;
  let monitor: ProgressMonitor | undefined;
  try {
    for (let i = 0; i < opts.workers; i++) stack.startWorker();
    const team = await setUpPipelines();
    await waitAllRunning(team, 120_000);
    log(`chaos: ${team.pipelines.length} pipelines running (${team.pipelines.reduce((n, p) => n + p.parallelism * (1 + p.stages.length), 0)} tasks on ${opts.workers} workers) after ${elapsed()}`);

    // The harness's own client: connection errors while the broker is down are expected, not news.
    const kafka = createKafka({ clientId: "sluice-chaos", logLevel: logLevel.NOTHING });
    monitor = new ProgressMonitor(
      kafka,
      // A Window pipeline's later stages are watched on their repartition streams: output flows again only once they commit too.
      team.pipelines.flatMap((p) => [{ name: p.spec.name, groupId: p.groupId, topics: p.sourceTopics }, ...p.stages.map((s) => ({ name: `${p.spec.name}/${s.stage}`, groupId: s.groupId, topics: [s.topic] }))]),
      (line) => stack.note(line, "progress"),
    );
    monitor.start();
    const rnd = new Random(opts.seed);
    const t0 = Date.now();
    producer = new ChaosProducer(kafka, SOURCES, opts.seed, t0, log);
    producer.start();
    log(`chaos: producing ${SOURCES.map((s) => `${s.name} ${s.rate}/s`).join(", ")} for ${opts.minutes} min`);

    const plan = planFaults(opts.seed, opts.minutes);
    const faults = new FaultInjector(stack, team, monitor, rnd.fork(), t0, log);
    const endAt = t0 + opts.minutes * 60_000;
    const progress = setInterval(() => {
      const lag = [...monitor!.lag().values()].reduce((a, b) => a + b, 0n);
      log(`[+${((Date.now() - t0) / 1000).toFixed(0)}s] produced ${producer!.produced} (acknowledged ${producer!.acked.size}, queued ${producer!.backlog}); total lag ${lag}; workers ${stack.liveWorkers().map((w) => w.name + (w.paused ? "(paused)" : "")).join(" ")}`);
    }, 15_000);
    const schedule = faults.run(plan, () => Date.now() >= endAt);
    await sleep(Math.max(0, endAt - Date.now()));
    log(`chaos: producer stopping after ${opts.minutes} min; flushing and writing the closing records`);
    await producer.stop((stream) => SOURCES.find((s) => s.name === stream)!.partitions, Date.now() + 300_000);
    await schedule;
    clearInterval(progress);

    // Drain: every pipeline commits everything its sources hold (the closing records included); then, since
    // the main stages have by then written everything into the repartition streams, the Window stages commit that.
    const drainUntil = Date.now() + DRAIN_TIMEOUT_MS;
    const drainStep = async () =>
      Promise.race([monitor!.whenCommitted(await withoutTrailingMarkers(kafka, (await monitor!.sampleNow()).ends)), sleep(Math.max(0, drainUntil - Date.now())).then(() => undefined)]);
    const drained = (await drainStep()) && (await drainStep());
    log(drained ? `chaos: drained ${((drained.at - endAt) / 1000).toFixed(1)}s after the producer stopped` : `chaos: NOT drained ${DRAIN_TIMEOUT_MS / 1000}s after the producer stopped: lag ${JSON.stringify(Object.fromEntries([...monitor.lag()].map(([k, v]) => [k, String(v)])))}`);
    await faults.settled();

    // Stuck tasks are judged while running; then every pipeline stops at a committed point, which also flushes its metrics.
    const stuckBeforeStop = await stuckTasks(team);
    await stopAll(team);
    await sleep(1_000);
    await monitor.stop();
    monitor = undefined;

    const admin = kafka.admin();
    await admin.connect();
    let report: CheckReport;
    try {
      report = await runChecks(kafka, admin, team, producer.acked);
    } finally {
      await admin.disconnect();
    }
    // A task found stuck while running counts even if it stopped cleanly afterwards.
    for (const [name, why] of stuckBeforeStop) {
      const p = report.pipelines.find((x) => x.pipeline === name)!;
      if (!p.stuck) {
        p.stuck = why;
        report.stuck++;
      }
    }

    const problems = failures(report, faults.outcomes, plan.length);
    const machine = `${hostname()}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GB`;
    const text = [
      "",
      `## Chaos run: ${opts.minutes} min, seed ${opts.seed}, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
      `Machine: ${machine}. Workload: ${report.sourceRecords} source records (${report.acknowledged} acknowledged produces, ${report.sourceDuplicates} written twice by producer retries), ${team.pipelines.length} pipelines.`,
      "",
      "### Faults",
      faultLog(faults.outcomes),
      "",
      "### Recovery (seconds from the fault until every pipeline had committed what its sources held when it hit)",
      recoveryTable(faults.outcomes),
      "",
      "### Sinks against the reference",
      sinkTable(report),
      "",
      `Reconciliation: ${report.unbalanced} unbalanced node-minute(s). Stuck pipelines: ${report.stuck}. Open transactions: ${report.openTransactions}. Key-order violations (exactly_once): ${report.orderViolations}. Producer: ${producer.sends} sends, ${producer.failedSends} failed and retried, ${producer.reconnects} new sessions.`,
      ...(problems.length ? ["", "### FAILED", ...problems.map((p) => `- ${p}`)] : []),
    ].join("\n");
    print(text);
    writeFileSync(join(stack.dir, "report.md"), text + "\n");
    writeFileSync(join(stack.dir, "report.json"), JSON.stringify({ options: opts, machine, faults: faults.outcomes, checks: report }, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v), 2));
    status = problems.length ? 1 : 0;
    print("");
    print(`chaos: ${status ? "FAILED" : "passed"} after ${elapsed()} in all`);
    summary = summaryLine(report, faults.outcomes, plan.length);
  } catch (e) {
    print(`chaos: run aborted: ${(e as Error).stack ?? String(e)}`);
    status = 2;
  } finally {
    await monitor?.stop().catch(() => {});
    await Promise.allSettled([closeTaskQueue(), closeKafka(), closeRedis(), closeClickHouse(), disconnectPrisma()]);
    await stack.stop();
    if (status === 0 && !opts.keep) stack.remove();
    else print(`chaos: data and logs kept in ${stack.dir}`);
  }
  return { status, summary };
}

async function stuckTasks(team: ChaosTeam): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of team.pipelines) {
    const s = await pipelineStatus(team.principal, TEAM, p.spec.name);
    if (!s.deployed) out.set(p.spec.name, "not deployed");
    else if (s.tasks.some((t) => t.state !== "running")) out.set(p.spec.name, `tasks ${s.tasks.map((t) => `${t.stage}/${t.index}:${t.state}`).join(", ")}${s.lastError ? `; last error: ${s.lastError}` : ""}`);
  }
  return out;
}

async function stopAll(team: ChaosTeam): Promise<void> {
  for (const p of team.pipelines) await stopPipeline(team.principal, TEAM, p.spec.name);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    let running = 0;
    for (const p of team.pipelines) {
      const s = await pipelineStatus(team.principal, TEAM, p.spec.name);
      if (s.deployed && s.actualState !== "stopped" && s.actualState !== "failed") running++;
    }
    if (!running) return;
    await sleep(500);
  }
}
