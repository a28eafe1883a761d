"use client";

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { apiFetch } from "@/components/ui/api";
import { Badge, stateTone } from "@/components/ui/badge";
import { useDeploymentStatus } from "@/components/canvas/use-deployment-status";
import { BalanceStrip } from "./balance-strip";
import { mergeMetrics } from "./merge";
import { formatCount, TimeChart, type ChartMarker } from "./time-chart";
import { DEFAULT_MONITOR_RANGE, MONITOR_RANGES as RANGES, type MetricsResponse, type MonitorRange, type ReconciliationResponse } from "./types";

type Range = MonitorRange | "custom";

/** The newest minute is re-read this often while a preset range is shown. */
export const LIVE_POLL_MS = 5_000;

const EVENT_COLORS: Record<string, string> = { deploy: "#1d63d8", redeploy: "#1d63d8", resume: "#059669", scale: "#7c3aed", stop: "#64748b", failed: "#dc2626", restart: "#ea580c" };
const NODE_SERIES = [
  { key: "in", label: "in", color: "#1d63d8" },
  { key: "out", label: "out", color: "#059669" },
  { key: "filtered", label: "filtered", color: "#94a3b8" },
  { key: "errored", label: "dead-lettered", color: "#dc2626" },
  { key: "late", label: "late", color: "#d97706" },
] as const;
const PARTITION_COLORS = ["#1d63d8", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626"];

const ms = (v: number) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);
const toLocalInput = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

/** `initial`: metrics the server read for `initial.range` with the page; used only on mount, when that range is shown. */
function useMonitorData(team: string, pipeline: string, range: Range, custom: { from: string; to: string }, initial?: { range: Range; metrics: MetricsResponse }) {
  const [metrics, setMetrics] = useState<MetricsResponse | null>(initial?.range === range ? initial.metrics : null);
  const [recon, setRecon] = useState<ReconciliationResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const base = `/api/v1/teams/${team}/pipelines/${pipeline}`;
  const query = range === "custom" ? `from=${encodeURIComponent(new Date(custom.from).toISOString())}&to=${encodeURIComponent(new Date(custom.to).toISOString())}` : `range=${range}`;
  const seq = useRef(0);

  /** Reconciliation covers the range, at most its newest 24 hours (a strip of minutes). */
  const reconQuery = useCallback((m: MetricsResponse) => {
    const to = m.range.to * 1000;
    const from = Math.max(m.range.from * 1000, to - 86_400_000);
    return `from=${from}&to=${to}`;
  }, []);

  // The page's server render already read the first range's metrics: the first chart draws on hydration.
  const pending = useRef(initial?.range === range ? initial.metrics : undefined);
  const load = useCallback(async () => {
    const mine = ++seq.current;
    const ready = pending.current;
    pending.current = undefined;
    try {
      const m = ready ?? (await apiFetch<MetricsResponse>(`${base}/metrics?${query}`));
      if (mine !== seq.current) return;
      setMetrics(m);
      setError(null);
      const r = await apiFetch<ReconciliationResponse>(`${base}/reconciliation?${reconQuery(m)}`);
      if (mine === seq.current) setRecon(r);
    } catch (e) {
      if (mine === seq.current) setError(e instanceof Error ? e.message : String(e));
    }
  }, [base, query, reconQuery]);

  useEffect(() => {
    if (!pending.current) setMetrics(null);
    setRecon(null);
    void load();
  }, [load]);

  // Live: re-read from the newest bucket on, merge, and slide the window.
  const current = useRef<MetricsResponse | null>(null);
  current.current = metrics;
  useEffect(() => {
    if (range === "custom") return;
    let busy = false;
    const timer = setInterval(async () => {
      const prev = current.current;
      if (document.hidden || busy || !prev?.t.length) return;
      busy = true;
      const mine = seq.current;
      try {
        const since = prev.t[prev.t.length - 1] * 1000;
        const next = await apiFetch<MetricsResponse>(`${base}/metrics?${query}&since=${since}`);
        if (mine !== seq.current) return;
        const merged = mergeMetrics(prev, next, next.range.to - (prev.range.to - prev.range.from));
        setMetrics(merged);
        const r = await apiFetch<ReconciliationResponse>(`${base}/reconciliation?${reconQuery(merged)}`);
        if (mine === seq.current) setRecon(r);
      } catch {
        // The next tick tries again; what is drawn stays.
      } finally {
        busy = false;
      }
    }, LIVE_POLL_MS);
    return () => clearInterval(timer);
  }, [base, query, range, reconQuery]);

  return { metrics, recon, error, reload: load };
}

export function PipelineMonitor({ team, pipeline, initialRange = DEFAULT_MONITOR_RANGE, initialMetrics }: { team: string; pipeline: string; initialRange?: string; initialMetrics?: MetricsResponse }) {
  const [range, setRange] = useState<Range>((RANGES as readonly string[]).includes(initialRange) ? (initialRange as Range) : DEFAULT_MONITOR_RANGE);
  const now = new Date();
  const [custom, setCustom] = useState({ from: toLocalInput(new Date(now.getTime() - 3 * 3_600_000)), to: toLocalInput(now) });
  const [draft, setDraft] = useState(custom);
  // Read once, when the tab mounts (useMonitorData's state and ref initializers).
  const { metrics, recon, error } = useMonitorData(team, pipeline, range, custom, initialMetrics && { range, metrics: initialMetrics });
  const { status } = useDeploymentStatus(team, pipeline);

  const markers: ChartMarker[] = useMemo(() => (metrics?.events ?? []).map((e) => ({ at: e.at / 1000, label: e.kind, color: EVENT_COLORS[e.kind] ?? "#64748b" })), [metrics]);
  const perBucket = metrics?.range.hourly ? "per hour" : "per minute";

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-2">
        <div role="group" aria-label="Time range" className="inline-flex overflow-hidden rounded-md border border-slate-300 bg-white text-sm">
          {RANGES.map((r) => (
            <button key={r} onClick={() => setRange(r)} aria-pressed={range === r} className={`px-3 py-1.5 ${range === r ? "bg-brand-600 text-white" : "text-slate-700 hover:bg-slate-50"}`}>{r}</button>
          ))}
          <button onClick={() => setRange("custom")} aria-pressed={range === "custom"} className={`px-3 py-1.5 ${range === "custom" ? "bg-brand-600 text-white" : "text-slate-700 hover:bg-slate-50"}`}>Custom</button>
        </div>
        {range === "custom" ? (
          <form className="flex items-center gap-2 text-sm" onSubmit={(e) => { e.preventDefault(); setCustom(draft); }}>
            <label className="text-slate-600">From <input type="datetime-local" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} className="rounded-md border border-slate-300 px-2 py-1" /></label>
            <label className="text-slate-600">to <input type="datetime-local" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} className="rounded-md border border-slate-300 px-2 py-1" /></label>
            <button className="rounded-md border border-slate-300 px-3 py-1">Show</button>
          </form>
        ) : (
          <span className="inline-flex items-center gap-1.5 text-xs text-slate-500" title={`The newest minute is refreshed every ${LIVE_POLL_MS / 1000} s`}>
            <span className="h-2 w-2 animate-pulse rounded-full bg-emerald-500" aria-hidden="true" /> live
          </span>
        )}
        {status?.deployed ? (
          <span className="ml-auto flex items-center gap-3 text-sm text-slate-600">
            <Badge tone={stateTone(status.actualState)}>{status.actualState}</Badge>
            <span>v{status.version} · {status.parallelism} task(s)</span>
            <span data-testid="live-rate">{formatCount(status.recordsPerSec)}/s</span>
            <span>lag {status.consumerLag.toLocaleString("en")}</span>
          </span>
        ) : null}
      </div>
      {error ? <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{error}</p> : null}
      {status?.deployed && status.lastError ? <p className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800">Last error: {status.lastError}</p> : null}
      {!metrics ? (
        <p className="text-sm text-slate-500">Loading metrics…</p>
      ) : !metrics.deploymentId ? (
        <p className="rounded-lg border border-dashed border-slate-300 p-6 text-center text-sm text-slate-500">This pipeline has not been deployed: its monitor fills once it runs.</p>
      ) : (
        <>
          {recon ? <BalanceStrip data={recon} from={Date.parse(recon.from) / 1000} to={Date.parse(recon.to) / 1000} /> : null}
          <div className="grid grid-cols-1 gap-3 xl:grid-cols-2" data-testid="node-charts">
            {metrics.nodes.map((n) => (
              <TimeChart
                key={n.id}
                title={`${n.id} (${n.type}) — records ${perBucket}`}
                t={metrics.t}
                markers={markers}
                series={NODE_SERIES.filter((s) => s.key !== "late" || n.type === "window").map((s) => ({ label: s.label, color: s.color, values: n[s.key] }))}
              />
            ))}
          </div>
          <div className="grid grid-cols-1 gap-3 xl:grid-cols-2">
            <TimeChart title="Consumer lag per source partition (records behind)" t={metrics.t} markers={markers} series={metrics.partitions.map((p, i) => ({ label: p.key, color: PARTITION_COLORS[i % PARTITION_COLORS.length], values: p.lag }))} />
            <TimeChart title="Event-time lag (newest record vs. wall clock)" t={metrics.t} markers={markers} format={ms} series={[{ label: "event-time lag", color: "#7c3aed", values: metrics.tasks.eventTimeLagMs }]} />
            <TimeChart title="Batch time" t={metrics.t} markers={markers} format={ms} series={[{ label: "p50", color: "#1d63d8", values: metrics.tasks.batchMsP50 }, { label: "max", color: "#dc2626", values: metrics.tasks.batchMsMax, dash: true }]} />
            <TimeChart title="Window state (open windows)" t={metrics.t} markers={markers} series={[{ label: "open windows", color: "#0891b2", values: metrics.tasks.windowOpen }]} emptyText="No window state in this range" />
          </div>
          <Timeline events={metrics.events} />
        </>
      )}
      {status?.deployed ? <TasksTable tasks={status.tasks} /> : null}
      <PipelineAlerts team={team} pipeline={pipeline} />
    </div>
  );
}

/** The rules watching this pipeline, with their state; rules are created on the Alerts page. */
function PipelineAlerts({ team, pipeline }: { team: string; pipeline: string }) {
  const [rules, setRules] = useState<{ name: string; description: string; state: "ok" | "pending" | "firing"; lastValue: number | null }[] | null>(null);
  useEffect(() => {
    let stopped = false;
    const load = () => apiFetch<{ rules: NonNullable<typeof rules> }>(`/api/v1/teams/${team}/alerts/rules?pipeline=${encodeURIComponent(pipeline)}`).then((r) => !stopped && setRules(r.rules)).catch(() => {});
    void load();
    const t = setInterval(() => !document.hidden && void load(), LIVE_POLL_MS);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, [team, pipeline]);
  return (
    <section aria-label="Alert rules" className="rounded-lg border border-slate-200 bg-white p-3 text-sm">
      <div className="mb-1 flex items-center gap-3">
        <h2 className="font-medium text-slate-700">Alert rules</h2>
        <a href={`/t/${team}/alerts?tab=rules&pipeline=${encodeURIComponent(pipeline)}`} className="text-xs font-medium text-brand-700 hover:underline">New rule…</a>
      </div>
      {rules?.length ? (
        <ul className="space-y-0.5">
          {rules.map((r) => (
            <li key={r.name} data-testid={`pipeline-rule-${r.name}`} className="flex items-center gap-2">
              <Badge tone={r.state === "firing" ? "red" : r.state === "pending" ? "amber" : "green"}>{r.state}</Badge>
              <span className="font-medium">{r.name}</span>
              <span className="text-slate-500">{r.description}{r.lastValue !== null ? ` · now ${r.lastValue}` : ""}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-xs text-slate-500">{rules ? "No rule watches this pipeline yet." : "Loading…"}</p>
      )}
    </section>
  );
}

function Timeline({ events }: { events: MetricsResponse["events"] }) {
  if (!events.length) return null;
  return (
    <section aria-label="Timeline" className="rounded-lg border border-slate-200 bg-white p-3">
      <h2 className="mb-1 text-sm font-medium text-slate-700">Timeline</h2>
      <ol className="space-y-0.5 text-xs text-slate-600">
        {[...events].reverse().slice(0, 50).map((e, i) => (
          <li key={i}>
            <span className="mr-2 inline-block h-2 w-2 rounded-full" style={{ background: EVENT_COLORS[e.kind] ?? "#64748b" }} aria-hidden="true" />
            {new Date(e.at).toLocaleString()} — {e.message}
          </li>
        ))}
      </ol>
    </section>
  );
}

interface TaskRow {
  index: number;
  state: string;
  worker: string | null;
  recordsPerSec: number;
  consumerLag: number;
  lastError: string | null;
  restarts?: number;
  nextRetryAt?: number | null;
  restartLimit?: { maxFailures: number; windowMs: number } | null;
}

function TasksTable({ tasks }: { tasks: TaskRow[] }) {
  return (
    <section aria-label="Tasks" className="overflow-hidden rounded-lg border border-slate-200 bg-white">
      <table className="min-w-full text-sm">
        <thead className="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
          <tr><th className="px-3 py-2">Task</th><th className="px-3 py-2">State</th><th className="px-3 py-2">Worker</th><th className="px-3 py-2 text-right">Records/s</th><th className="px-3 py-2 text-right">Lag</th><th className="px-3 py-2">Restarts</th><th className="px-3 py-2">Last error</th></tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {tasks.map((t) => (
            <tr key={t.index} data-testid={`task-row-${t.index}`}>
              <td className="px-3 py-2 font-mono">{t.index}</td>
              <td className="px-3 py-2"><Badge tone={stateTone(t.state)}>{t.state}</Badge></td>
              <td className="px-3 py-2 text-slate-600">{t.worker ?? "—"}</td>
              <td className="px-3 py-2 text-right font-mono text-xs">{formatCount(t.recordsPerSec)}</td>
              <td className="px-3 py-2 text-right font-mono text-xs">{t.consumerLag.toLocaleString("en")}</td>
              <td className="px-3 py-2 text-xs text-slate-600" data-testid={`task-restarts-${t.index}`}>
                {t.restarts ? `${t.restarts}${t.restartLimit ? ` (fails after ${t.restartLimit.maxFailures} in ${Math.round(t.restartLimit.windowMs / 60_000)} min)` : ""}${t.nextRetryAt && t.nextRetryAt > Date.now() ? ` · next try in ${Math.ceil((t.nextRetryAt - Date.now()) / 1000)} s` : ""}` : "0"}
              </td>
              <td className="max-w-md truncate px-3 py-2 text-xs text-red-700" title={t.lastError ?? undefined}>{t.lastError ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
