"use client";

import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { apiFetch } from "@/components/ui/api";
import { Badge, stateTone } from "@/components/ui/badge";
import { Sparkline } from "./sparkline";
import { formatCount } from "./time-chart";

export interface FleetPipeline {
  name: string;
  version: number | null;
  state: string;
  desiredState: string | null;
  tasks: number;
  tasksRunning: number;
  recordsPerSec: number;
  consumerLag: number;
  sparkline: (number | null)[];
  errorRate: number | null;
  alertsFiring: number;
  lastError: string | null;
}

export interface FleetWorker {
  id: string;
  host: string;
  pid: number;
  alive: boolean;
  slots: number;
  running: number;
  cpuPercent: number | null;
  rssBytes: number | null;
  eventLoopDelayMs: number | null;
  eventLoopDelayP99Ms: number | null;
  heartbeatAt: number;
  heartbeatAgoMs: number;
}

export interface Fleet {
  pipelines: FleetPipeline[];
  workers: FleetWorker[];
  sparklineFrom: number;
  metricsAvailable: boolean;
}

/** A dead worker must show within 10 s: heartbeats expire after 6 s, and the page re-reads every 2 s. */
export const FLEET_POLL_MS = 2_000;

type SortKey = "name" | "state" | "recordsPerSec" | "consumerLag" | "errorRate" | "alertsFiring";
const STATE_ORDER = ["failed", "starting", "stopping", "running", "pending", "stopped", "not deployed"];

const pct = (r: number | null) => (r === null ? "—" : r === 0 ? "0%" : r < 0.001 ? "<0.1%" : `${(r * 100).toFixed(1)}%`);
const mb = (b: number | null) => (b === null ? "—" : `${Math.round(b / 1_048_576)} MB`);
const ago = (ms: number) => (ms < 1_000 ? "now" : ms < 60_000 ? `${Math.round(ms / 1000)} s ago` : `${Math.round(ms / 60_000)} min ago`);

export function FleetView({ team, initial }: { team: string; initial: Fleet }) {
  const [fleet, setFleet] = useState(initial);
  const [query, setQuery] = useState("");
  const [state, setState] = useState("all");
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "state", desc: false });

  useEffect(() => {
    let stopped = false;
    const t = setInterval(async () => {
      if (document.hidden) return;
      try {
        const f = await apiFetch<Fleet>(`/api/v1/teams/${team}/monitor`);
        if (!stopped) setFleet(f);
      } catch {
        // Keep the last view; the next tick tries again.
      }
    }, FLEET_POLL_MS);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, [team]);

  const rows = useMemo(() => {
    const q = query.trim().toLowerCase();
    const list = fleet.pipelines.filter((p) => (!q || p.name.includes(q)) && (state === "all" || p.state === state || (state === "alerting" && p.alertsFiring > 0)));
    const value = (p: FleetPipeline): number | string => (sort.key === "state" ? STATE_ORDER.indexOf(p.state) : sort.key === "name" ? p.name : (p[sort.key] ?? -1));
    return [...list].sort((a, b) => {
      const [x, y] = [value(a), value(b)];
      const c = typeof x === "string" ? x.localeCompare(y as string) : x - (y as number);
      return (sort.desc ? -c : c) || a.name.localeCompare(b.name);
    });
  }, [fleet, query, state, sort]);

  const header = (key: SortKey, label: string, right = false) => (
    <th className={`px-3 py-2 ${right ? "text-right" : ""}`} aria-sort={sort.key === key ? (sort.desc ? "descending" : "ascending") : "none"}>
      <button onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key !== "name" && key !== "state" }))} className="font-semibold uppercase hover:text-slate-900">
        {label}{sort.key === key ? (sort.desc ? " ↓" : " ↑") : ""}
      </button>
    </th>
  );
  const states = [...new Set(fleet.pipelines.map((p) => p.state))];

  return (
    <div className="space-y-6">
      <section aria-label="Pipelines">
        <div className="mb-3 flex items-center gap-3">
          <input type="search" aria-label="Filter pipelines" placeholder="Filter by name…" value={query} onChange={(e) => setQuery(e.target.value)} className="w-64 rounded-md border border-slate-300 px-3 py-1.5 text-sm" />
          <select aria-label="Filter by state" value={state} onChange={(e) => setState(e.target.value)} className="rounded-md border border-slate-300 px-2 py-1.5 text-sm">
            <option value="all">All states</option>
            <option value="alerting">Alerts firing</option>
            {states.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
          <span className="text-xs text-slate-500">{rows.length} of {fleet.pipelines.length} pipeline(s){fleet.metricsAvailable ? "" : " · metrics unavailable (no ClickHouse)"}</span>
        </div>
        <div className="overflow-hidden rounded-xl border border-slate-200 bg-white">
          <table className="min-w-full text-sm" aria-label="Pipelines at a glance">
            <thead className="bg-slate-50 text-left text-xs text-slate-500">
              <tr>
                {header("name", "Pipeline")}
                {header("state", "State")}
                <th className="px-3 py-2 font-semibold uppercase">Last hour</th>
                {header("recordsPerSec", "Records/s", true)}
                {header("consumerLag", "Lag", true)}
                {header("errorRate", "Errors (15 min)", true)}
                {header("alertsFiring", "Alerts", true)}
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {rows.map((p) => (
                <tr key={p.name} data-testid={`fleet-row-${p.name}`}>
                  <td className="px-3 py-2">
                    <Link href={`/t/${team}/pipelines/${p.name}/monitor`} className="font-medium text-slate-900 hover:text-brand-700 hover:underline">{p.name}</Link>
                    {p.version ? <span className="ml-2 text-xs text-slate-500">v{p.version}</span> : null}
                  </td>
                  <td className="px-3 py-2">
                    <Badge tone={stateTone(p.state)}>{p.state}</Badge>
                    {p.tasks ? <span className="ml-1.5 text-xs text-slate-500" title="tasks running / tasks">{p.tasksRunning}/{p.tasks}</span> : null}
                    {p.lastError && p.state === "failed" ? <div className="max-w-xs truncate text-xs text-red-700" title={p.lastError}>{p.lastError}</div> : null}
                  </td>
                  <td className="px-3 py-2">{p.version ? <Sparkline values={p.sparkline} from={fleet.sparklineFrom} label={`${p.name}: records read per minute over the last hour`} /> : <span className="text-xs text-slate-400">—</span>}</td>
                  <td className="px-3 py-2 text-right font-mono text-xs">{p.desiredState === "running" ? formatCount(p.recordsPerSec) : "—"}</td>
                  <td className="px-3 py-2 text-right font-mono text-xs">{p.desiredState === "running" ? p.consumerLag.toLocaleString("en") : "—"}</td>
                  <td className={`px-3 py-2 text-right font-mono text-xs ${p.errorRate ? "text-red-700" : ""}`}>{pct(p.errorRate)}</td>
                  <td className="px-3 py-2 text-right">{p.alertsFiring ? <Badge tone="red">{p.alertsFiring} firing</Badge> : <span className="text-xs text-slate-400">0</span>}</td>
                </tr>
              ))}
              {!rows.length ? <tr><td colSpan={7} className="px-3 py-6 text-center text-slate-500">No pipeline matches.</td></tr> : null}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-label="Workers">
        <h2 className="mb-2 text-lg font-semibold">Workers</h2>
        <div className="overflow-hidden rounded-xl border border-slate-200 bg-white">
          <table className="min-w-full text-sm" aria-label="Worker processes">
            <thead className="bg-slate-50 text-left text-xs font-semibold uppercase text-slate-500">
              <tr><th className="px-3 py-2">Worker</th><th className="px-3 py-2">Host</th><th className="px-3 py-2">Status</th><th className="px-3 py-2 text-right">Tasks</th><th className="px-3 py-2 text-right">CPU</th><th className="px-3 py-2 text-right">RSS</th><th className="px-3 py-2 text-right">Event-loop delay</th><th className="px-3 py-2">Last heartbeat</th></tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {fleet.workers.map((w) => (
                <tr key={w.id} data-testid={`worker-row-${w.id}`} className={w.alive ? "" : "bg-red-50/50"}>
                  <td className="px-3 py-2 font-mono text-xs">{w.id}</td>
                  <td className="px-3 py-2 text-slate-600">{w.host} <span className="text-xs text-slate-400">pid {w.pid}</span></td>
                  <td className="px-3 py-2">{w.alive ? <Badge tone="green">alive</Badge> : <Badge tone="red">dead</Badge>}</td>
                  <td className="px-3 py-2 text-right font-mono text-xs">{w.alive ? `${w.running}/${w.slots}` : "—"}</td>
                  <td className="px-3 py-2 text-right font-mono text-xs">{w.alive && w.cpuPercent !== null ? `${w.cpuPercent}%` : "—"}</td>
                  <td className="px-3 py-2 text-right font-mono text-xs">{w.alive ? mb(w.rssBytes) : "—"}</td>
                  <td className="px-3 py-2 text-right font-mono text-xs" title="mean / p99 over the last heartbeat interval">{w.alive && w.eventLoopDelayMs !== null ? `${w.eventLoopDelayMs} / ${w.eventLoopDelayP99Ms} ms` : "—"}</td>
                  <td className="px-3 py-2 text-xs text-slate-600">{ago(w.heartbeatAgoMs)}</td>
                </tr>
              ))}
              {!fleet.workers.length ? <tr><td colSpan={8} className="px-3 py-6 text-center text-slate-500">No worker is running: start one with <code className="font-mono">npm run worker</code>.</td></tr> : null}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
