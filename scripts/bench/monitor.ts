/**
 * npm run bench -- monitor   [--loads=5]   (needs the production build: `npm run build`)
 *
 * How fast the Monitor tab draws its first chart for a pipeline with 7 days of
 * per-minute metrics for 10 nodes × 4 tasks (goal < 1 s), in Debian's
 * Chromium against `next start`, on real services started in a temp dir.
 * Seeded directly into ClickHouse as running tasks would have written it:
 * 403,200 node_metrics rows, 483,840 task samples (every 5 s), 483,840
 * partition-lag samples; the hourly rollups fill through their materialized
 * views. For each range (7d reads the rollups, 24h and 1h the minutes) it
 * reports the median over --loads page loads of: navigation → first chart
 * drawn (a performance mark the chart sets), navigation → DOMContentLoaded
 * of the same page (the baseline: the page without its data), and the
 * metrics API call alone.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import getPort from "get-port";
import { chromium } from "@playwright/test";
import { startStack, type Stack } from "../services/local-stack";
import { stopProcess } from "../services/process";

const root = fileURLToPath(new URL("../..", import.meta.url));
const arg = (name: string, fallback: number) => Number(process.argv.find((x) => x.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const LOADS = arg("loads", 5);
const DAYS = 7;
const NODES = 10;
const TASKS = 4;
const utc = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  if (!existsSync(join(root, ".next/BUILD_ID"))) {
    console.error("The monitor bench needs the production build: run `npm run build` first.");
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-monitor-"));
  chmodSync(dir, 0o755);
  const secret = () => randomBytes(16).toString("hex");
  const stack: Stack = await startStack({
    root, dataDir: dir, external: {},
    ports: { postgres: await getPort(), redis: await getPort(), clickhouseHttp: await getPort(), clickhouseTcp: await getPort(), kafka: await getPort() },
    secrets: { postgresPassword: secret(), redisPassword: secret(), clickhousePassword: secret() },
  });
  const port = await getPort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, ...stack.env, NODE_ENV: "production" as const, NEXT_TELEMETRY_DISABLED: "1", SLUICE_URL: base, BETTER_AUTH_SECRET: randomBytes(32).toString("base64"), LOG_LEVEL: "warn" };
  Object.assign(process.env, env);
  const web = spawn(join(root, "node_modules/.bin/next"), ["start", "-p", String(port), "-H", "127.0.0.1"], { cwd: root, env, stdio: "ignore" });
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
  try {
    for (let i = 0; ; i++) {
      if ((await fetch(`${base}/api/health`).catch(() => null))?.ok) break;
      if (i > 600) throw new Error("next start did not answer within 60 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    // Sign up and create the team through the API (the session cookie lands in the browser context).
    const email = "bench@example.test";
    expect(await page.request.post(`${base}/api/auth/sign-up/email`, { data: { email, password: "correct horse battery", name: "Bench" }, headers: { origin: base } }), 200);
    expect(await page.request.post(`${base}/api/v1/teams`, { data: { name: "Bench", slug: "bench" }, headers: { origin: base } }), 201);
    const schema = [{ name: "id", type: "string" }, { name: "amount", type: "float" }];
    for (const [name, partitions] of [["ods.bench-in", 4], ["dwd.bench-out", 1]] as const) {
      expect(await page.request.post(`${base}/api/v1/teams/bench/streams`, { data: { name, layer: "ODS", partitions, schema }, headers: { origin: base } }), 201);
    }
    // Source → 8 Filters/Projections → Sink: 10 nodes.
    const nodes = [{ id: "src", type: "source", config: { stream: "ods.bench-in" }, position: { x: 0, y: 0 } }];
    for (let i = 1; i <= NODES - 2; i++) nodes.push(i % 2 ? { id: `f${i}`, type: "filter", config: { predicate: `amount > ${i}.0` } as never, position: { x: i, y: 0 } } : { id: `p${i}`, type: "projection", config: { fields: [{ name: "id", from: "id" }, { name: "amount", from: "amount" }] } as never, position: { x: i, y: 0 } });
    nodes.push({ id: "out", type: "sink", config: { stream: "dwd.bench-out" }, position: { x: NODES, y: 0 } });
    const edges = nodes.slice(1).map((n, i) => ({ source: nodes[i].id, target: n.id }));
    expect(await page.request.post(`${base}/api/v1/teams/bench/pipelines`, { data: { name: "week" }, headers: { origin: base } }), 201);
    expect(await page.request.post(`${base}/api/v1/teams/bench/pipelines/week/versions`, { data: { pipeline: { version: 1, nodes, edges } }, headers: { origin: base } }), 201);
    // Deployed (no worker runs it here: the week of metrics is seeded below).
    expect(await page.request.post(`${base}/api/v1/teams/bench/pipelines/week/deploy`, { data: { parallelism: TASKS }, headers: { origin: base } }), 200);
    const deploymentId = (await (await page.request.get(`${base}/api/v1/teams/bench/pipelines/week/status`)).json()).deploymentId as string;

    const { clickhouse } = await import("@/lib/clickhouse/client");
    const ch = clickhouse();
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const start = now - DAYS * 86_400_000;
    const seedStarted = performance.now();
    const insert = async (table: string, make: (push: (r: object) => void) => void) => {
      let batch: object[] = [];
      const flushes: Promise<unknown>[] = [];
      make((r) => {
        batch.push(r);
        if (batch.length === 100_000) {
          flushes.push(ch.insert({ table, values: batch, format: "JSONEachRow" }));
          batch = [];
        }
      });
      if (batch.length) flushes.push(ch.insert({ table, values: batch, format: "JSONEachRow" }));
      await Promise.all(flushes);
    };
    const minutes = DAYS * 1_440;
    await insert("node_metrics", (push) => {
      for (let m = 0; m < minutes; m++) {
        const minute = utc(start + m * 60_000);
        const load = 600 + Math.round(400 * Math.sin((m / 1_440) * 2 * Math.PI));
        for (let t = 0; t < TASKS; t++) {
          let flow = load;
          for (const n of nodes) {
            const filtered = n.type === "filter" ? Math.round(flow * 0.05) : 0;
            push({ minute, deployment_id: deploymentId, pipeline_id: "p", node_id: n.id, task_index: t, version: 1, records_in: flow, records_out: flow - filtered, records_filtered: filtered, records_errored: 0, records_late: 0, bytes_in: 0, bytes_out: 0 });
            flow -= filtered;
          }
        }
      }
    });
    await insert("task_metrics", (push) => {
      for (let s = 0; s < minutes * 12; s++) {
        const ms = start + s * 5_000;
        for (let t = 0; t < TASKS; t++) push({ ts: utc(ms), ts_ms: ms, deployment_id: deploymentId, pipeline_id: "p", stage: "main", task_index: t, worker_id: "w", batches: 10, records_in: 200, records_out: 150, batch_ms_avg: 3, batch_ms_p50: 2.5, batch_ms_max: 9, consumer_lag: (s % 120) * 3, event_time_lag_ms: 800, window_open: 0 });
      }
    });
    await insert("partition_lag", (push) => {
      for (let s = 0; s < minutes * 12; s++) {
        const ts = utc(start + s * 5_000);
        for (let p = 0; p < TASKS; p++) push({ ts, deployment_id: deploymentId, pipeline_id: "p", task_index: p, topic: "ods.bench-in", partition: p, consumer_lag: (s % 120) * 3 });
      }
    });
    console.error(`seeded ${minutes * NODES * TASKS} node rows and ${2 * minutes * 12 * TASKS} samples in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

    const results: { range: string; firstChart: number; domReady: number; api: number }[] = [];
    for (const range of ["7d", "24h", "1h"]) {
      const first: number[] = [];
      const dom: number[] = [];
      const api: number[] = [];
      for (let i = 0; i <= LOADS; i++) {
        await page.goto(`${base}/t/bench/pipelines/week/monitor?range=${range}`);
        await page.locator('[data-testid="chart"][data-ready="true"]').first().waitFor({ timeout: 30_000 });
        const t = await page.evaluate(() => ({
          chart: performance.getEntriesByName("sluice:first-chart")[0]?.startTime ?? NaN,
          dom: (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).domContentLoadedEventEnd,
        }));
        const a0 = performance.now();
        expect(await page.request.get(`${base}/api/v1/teams/bench/pipelines/week/metrics?range=${range}`), 200);
        const a = performance.now() - a0;
        if (i === 0) continue; // the first load of a range warms Next's route and ClickHouse's caches
        first.push(t.chart);
        dom.push(t.dom);
        api.push(a);
      }
      results.push({ range, firstChart: median(first), domReady: median(dom), api: median(api) });
    }
    console.log(`| Monitor tab, ${DAYS} days × ${NODES} nodes × ${TASKS} tasks seeded (median of ${LOADS} loads) | first chart drawn, ms | page without data (DOMContentLoaded), ms | ratio | metrics API alone, ms |`);
    console.log("|---|---|---|---|---|");
    for (const r of results) console.log(`| ${r.range}${r.range === "7d" ? " (hourly rollups)" : " (per-minute rows)"} | ${Math.round(r.firstChart)} | ${Math.round(r.domReady)} | ${(r.firstChart / r.domReady).toFixed(2)}× | ${Math.round(r.api)} |`);
    const worst = Math.max(...results.map((r) => r.firstChart));
    console.log(`\nfirst chart within 1 s for every range: ${worst < 1_000 ? "met" : "NOT met"} (slowest ${Math.round(worst)} ms)`);
    if (worst >= 1_000) process.exitCode = 1;
  } finally {
    await browser.close();
    await stopProcess(web, 10_000);
    const { closeClickHouse } = await import("@/lib/clickhouse/client");
    await closeClickHouse();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function expect(res: { status(): number; url(): string }, status: number) {
  if (res.status() !== status) throw new Error(`${res.url()} answered ${res.status()}, expected ${status}`);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
