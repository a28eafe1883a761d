import { timingSafeEqual } from "node:crypto";
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { clickhouse, clickhouseUrl } from "@/lib/clickhouse/client";
import { prisma } from "@/lib/db/prisma";
import { operationsEnv } from "@/lib/env/operations";
import { AppError } from "@/lib/errors";
import { moduleLogger } from "@/lib/log/logger";
import { lifetimeNodeTotals } from "@/lib/metrics/node-metrics";
import { redis } from "@/lib/redis/client";
import { MAIN_STAGE_ID } from "@/lib/runtime/naming";
import { readRestartInfo } from "@/lib/runtime/restart-policy";
import { readTaskStates } from "@/lib/runtime/task-state";
import { listWorkerFleet } from "@/lib/runtime/worker-registry";

const log = moduleLogger("prometheus");

/**
 * GET /api/metrics: the whole installation in the Prometheus text format
 * (prom-client), for an existing Prometheus + Grafana. It spans every team,
 * so it is an operator's endpoint: off unless SLUICE_METRICS_TOKEN is set, and
 * then only with `Authorization: Bearer <token>`. Names follow Prometheus
 * conventions: `sluice_` prefix, base units (seconds, bytes), `_total` for
 * counters. Counters of records come from ClickHouse's hourly rollup, so they
 * survive task restarts (they drop only when retention removes old months;
 * rate() handles that as a reset). Everything else is read live at scrape time.
 */
export function checkMetricsToken(headers: Headers): void {
  const expected = operationsEnv().SLUICE_METRICS_TOKEN;
  if (!expected) throw new AppError("not_found", "The Prometheus endpoint is off: an operator sets SLUICE_METRICS_TOKEN to enable it (docs/operations.md).");
  const m = /^Bearer\s+(\S+)$/i.exec(headers.get("authorization") ?? "");
  const given = Buffer.from(m?.[1] ?? "");
  const want = Buffer.from(expected);
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw new AppError("unauthenticated", "Send the metrics token as `Authorization: Bearer <SLUICE_METRICS_TOKEN>` (Prometheus: `authorization: { credentials: … }`).");
}

/** The web process's own runtime metrics (event loop, heap, GC), registered once per process. */
const g = globalThis as unknown as { sluiceProcessRegistry?: Registry };
function processRegistry(): Registry {
  if (!g.sluiceProcessRegistry) {
    g.sluiceProcessRegistry = new Registry();
    collectDefaultMetrics({ register: g.sluiceProcessRegistry, prefix: "sluice_web_" });
  }
  return g.sluiceProcessRegistry;
}

const STATES = ["pending", "starting", "running", "stopping", "stopped", "failed"] as const;

export async function prometheusMetrics(): Promise<{ contentType: string; body: string }> {
  const reg = new Registry();
  const gauge = (name: string, help: string, labelNames: string[]) => new Gauge({ name, help, labelNames, registers: [reg] });
  const counter = (name: string, help: string, labelNames: string[]) => new Counter({ name, help, labelNames, registers: [reg] });

  const pipelineInfo = gauge("sluice_pipeline_info", "A deployed pipeline: its version and delivery guarantee (always 1).", ["team", "pipeline", "version", "guarantee"]);
  const pipelineState = gauge("sluice_pipeline_state", "1 for the deployment's actual state, 0 for the others.", ["team", "pipeline", "state"]);
  const pipelineUp = gauge("sluice_pipeline_up", "1 when the pipeline should run and every task runs.", ["team", "pipeline"]);
  const pipelineTasks = gauge("sluice_pipeline_tasks", "Tasks the deployment runs (its parallelism times its stages).", ["team", "pipeline"]);
  const pipelineLag = gauge("sluice_pipeline_consumer_lag_records", "Records behind the ends of the streams the pipeline reads (its sources, and the repartition streams of a Window run in stages), over all tasks.", ["team", "pipeline"]);
  const pipelineRate = gauge("sluice_pipeline_records_read_per_second", "Records read from the pipeline's sources per second now, over all tasks.", ["team", "pipeline"]);
  const nodeRecords = counter("sluice_node_records_total", "Records through a node, by outcome: in, out, filtered, errored (dead-lettered), late.", ["team", "pipeline", "node", "outcome"]);
  const taskUp = gauge("sluice_task_up", "1 while the task runs.", ["team", "pipeline", "stage", "task"]);
  const taskLag = gauge("sluice_task_consumer_lag_records", "Records behind on the task's partitions.", ["team", "pipeline", "stage", "task"]);
  const taskRate = gauge("sluice_task_records_read_per_second", "Records the task reads per second now.", ["team", "pipeline", "stage", "task"]);
  const taskRestarts = gauge("sluice_task_restarts", "Failures of the task within the restart window.", ["team", "pipeline", "stage", "task"]);
  const workerUp = gauge("sluice_worker_up", "1 for a live worker process, 0 for one that died within the last hour.", ["worker", "host"]);
  const workerTasks = gauge("sluice_worker_tasks", "Tasks the worker runs.", ["worker"]);
  const workerSlots = gauge("sluice_worker_slots", "Tasks the worker may run at once.", ["worker"]);
  const workerCpu = gauge("sluice_worker_cpu_ratio", "CPU the worker used over its last heartbeat interval, in cores.", ["worker"]);
  const workerRss = gauge("sluice_worker_resident_memory_bytes", "Resident memory of the worker process.", ["worker"]);
  const workerLoop = gauge("sluice_worker_event_loop_delay_seconds", "Event-loop delay of the worker over its last heartbeat interval.", ["worker", "stat"]);
  const alertFiring = gauge("sluice_alert_firing", "1 for each alert rule that is firing.", ["team", "rule", "target"]);
  const alertRules = gauge("sluice_alert_rules", "Alert rules by state.", ["team", "state"]);

  const deployments = await prisma().deployment.findMany({ include: { pipeline: { include: { team: { select: { slug: true } } } }, version: { select: { version: true } } } });
  const r = redis();
  // Keyed scale-out: every stage runs `parallelism` tasks (docs/runtime.md "Stages").
  const stagesOf = (d: (typeof deployments)[number]) => (d.stages.length ? d.stages : [MAIN_STAGE_ID]);
  const [states, restarts, workers, totals, rules] = await Promise.all([
    Promise.all(deployments.map((d) => readTaskStates(r, d.id, d.parallelism, stagesOf(d)))),
    Promise.all(deployments.map((d) => readRestartInfo(r, d.id, d.parallelism, stagesOf(d)))),
    listWorkerFleet(r),
    clickhouseUrl()
      ? lifetimeNodeTotals(clickhouse(), deployments.map((d) => d.id)).catch((err) => {
          log.warn({ err }, "record counters unavailable (ClickHouse)");
          return new Map();
        })
      : Promise.resolve(new Map()),
    prisma().alertRule.findMany({ select: { name: true, state: true, team: { select: { slug: true } }, pipeline: { select: { name: true } }, stream: { select: { name: true } } } }),
  ]);

  deployments.forEach((d, i) => {
    const l = { team: d.pipeline.team.slug, pipeline: d.pipeline.name };
    pipelineInfo.set({ ...l, version: String(d.version.version), guarantee: d.deliveryGuarantee }, 1);
    for (const s of STATES) pipelineState.set({ ...l, state: s }, d.actualState === s ? 1 : 0);
    const current = states[i].filter((s) => s.generation === d.generation);
    const running = d.desiredState === "running";
    const stages = stagesOf(d);
    pipelineUp.set(l, running && current.length === d.parallelism * stages.length && current.every((s) => s.phase === "running") ? 1 : 0);
    pipelineTasks.set(l, running ? d.parallelism * stages.length : 0);
    pipelineLag.set(l, current.reduce((a, s) => a + s.consumerLag, 0));
    pipelineRate.set(l, current.filter((s) => (s.stage ?? MAIN_STAGE_ID) === MAIN_STAGE_ID).reduce((a, s) => a + s.recordsPerSec, 0));
    if (running) {
      for (const stage of stages) {
        for (let t = 0; t < d.parallelism; t++) {
          const s = current.find((x) => x.taskIndex === t && (x.stage ?? MAIN_STAGE_ID) === stage);
          const tl = { ...l, stage, task: String(t) };
          taskUp.set(tl, s?.phase === "running" ? 1 : 0);
          taskLag.set(tl, s?.consumerLag ?? 0);
          taskRate.set(tl, s?.recordsPerSec ?? 0);
          taskRestarts.set(tl, restarts[i].get(`${stage}/${t}`)?.restarts ?? 0);
        }
      }
    }
    for (const [node, c] of (totals as Map<string, Map<string, { in: number; out: number; filtered: number; errored: number; late: number }>>).get(d.id) ?? []) {
      for (const outcome of ["in", "out", "filtered", "errored", "late"] as const) nodeRecords.inc({ ...l, node, outcome }, c[outcome]);
    }
  });
  for (const w of workers) {
    workerUp.set({ worker: w.id, host: w.host }, w.alive ? 1 : 0);
    if (!w.alive) continue;
    workerTasks.set({ worker: w.id }, w.running);
    workerSlots.set({ worker: w.id }, w.slots);
    if (w.cpuPercent !== undefined) workerCpu.set({ worker: w.id }, w.cpuPercent / 100);
    if (w.rssBytes !== undefined) workerRss.set({ worker: w.id }, w.rssBytes);
    if (w.eventLoopDelayMs !== undefined) workerLoop.set({ worker: w.id, stat: "mean" }, w.eventLoopDelayMs / 1000);
    if (w.eventLoopDelayP99Ms !== undefined) workerLoop.set({ worker: w.id, stat: "p99" }, w.eventLoopDelayP99Ms / 1000);
  }
  const byState = new Map<string, number>();
  for (const rule of rules) {
    byState.set(`${rule.team.slug}\u0000${rule.state}`, (byState.get(`${rule.team.slug}\u0000${rule.state}`) ?? 0) + 1);
    if (rule.state === "firing") alertFiring.set({ team: rule.team.slug, rule: rule.name, target: rule.pipeline ? `pipeline/${rule.pipeline.name}` : `stream/${rule.stream?.name}` }, 1);
  }
  for (const [k, n] of byState) {
    const [team, state] = k.split("\u0000");
    alertRules.set({ team, state }, n);
  }
  const merged = Registry.merge([reg, processRegistry()]);
  return { contentType: merged.contentType, body: await merged.metrics() };
}
