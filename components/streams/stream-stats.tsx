"use client";

import { createContext, useContext, useEffect, useState } from "react";
import { apiFetch } from "@/components/ui/api";
import type { StreamStats } from "@/lib/warehouse/stats";
import { formatAgo, formatBytes, formatCount, formatRate } from "./format";

/** The JSON of GET …/streams/:stream/stats. */
export type StreamStatsView = StreamStats;

/** Polls `load` (re-created when `key` changes); keeps the last good answer while a refresh fails, and says why. */
function usePolled<T>(key: string | null, load: () => Promise<T>, everyMs: number) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (key === null) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const d = await load();
        if (stopped) return;
        setData(d);
        setError(null);
      } catch (e) {
        if (!stopped) setError(e instanceof Error ? e.message : String(e));
      }
      if (stopped) return;
      setNow(Date.now());
      // Hidden tabs do not need live numbers: poll them four times less often.
      timer = setTimeout(poll, document.visibilityState === "hidden" ? everyMs * 4 : everyMs);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `key` identifies what `load` fetches
  }, [key, everyMs]);
  return { data, error, now };
}

export function useStreamStats(team: string, stream: string, everyMs: number) {
  const url = `/api/v1/teams/${team}/streams/${encodeURIComponent(stream)}/stats`;
  const { data, error, now } = usePolled<StreamStatsView>(url, () => apiFetch<StreamStatsView>(url), everyMs);
  return { stats: data, error, now };
}

const CatalogStats = createContext<{ byStream: Map<string, StreamStatsView>; loaded: boolean; error: string | null; now: number } | null>(null);

/**
 * The catalog's stats: one request for all the listed streams the team may
 * read, every `everyMs`, shared by the rows' cells (not one request per row).
 */
export function CatalogStatsProvider({ team, streams, everyMs = 10_000, children }: { team: string; streams: string[]; everyMs?: number; children: React.ReactNode }) {
  // Chunks keep URLs short (names are up to 200 characters) and under the route's 200-stream limit.
  const chunks: string[][] = [];
  for (let i = 0; i < streams.length; i += 40) chunks.push(streams.slice(i, i + 40));
  const load = async () => {
    const parts = await Promise.all(chunks.map((c) => apiFetch<{ stats: StreamStatsView[] }>(`/api/v1/teams/${team}/stream-stats?streams=${c.map(encodeURIComponent).join(",")}`)));
    return { stats: parts.flatMap((p) => p.stats) };
  };
  const { data, error, now } = usePolled<{ stats: StreamStatsView[] }>(streams.length ? `${team}:${streams.join(",")}` : null, load, everyMs);
  const byStream = new Map((data?.stats ?? []).map((s) => [s.stream, s]));
  return <CatalogStats.Provider value={{ byStream, loaded: data !== null, error, now }}>{children}</CatalogStats.Provider>;
}

function Stat({ label, value, hint, testId }: { label: string; value: string; hint?: string; testId: string }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-0.5 truncate text-lg font-semibold text-slate-900" data-testid={testId} title={hint}>{value}</dd>
    </div>
  );
}

/** The stream page's live numbers, refreshed every few seconds. */
export function StreamStatsPanel({ team, stream, everyMs = 3000 }: { team: string; stream: string; everyMs?: number }) {
  const { stats, error, now } = useStreamStats(team, stream, everyMs);
  return (
    <section className="rounded-xl border border-slate-200 bg-white p-4" aria-label="Live stats">
      <div className="mb-3 flex items-center justify-between">
        <h2 className="text-sm font-semibold">Live stats</h2>
        <span className="text-xs text-slate-500">{stats ? `measured ${new Date(stats.measuredAt).toLocaleTimeString()} · refreshes every ${Math.round(everyMs / 1000)} s` : "measuring…"}</span>
      </div>
      {error ? <p role="alert" className="mb-2 text-sm text-red-700">Could not refresh the stats: {error}</p> : null}
      {stats ? (
        <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4">
          <Stat testId="stat-rate" label="Rate (last minute)" value={formatRate(stats.recordsPerSecond)} hint={`${formatCount(stats.recordsLastMinute)} record(s) in the last minute`} />
          <Stat testId="stat-records" label="Records" value={formatCount(stats.records)} hint={`${formatCount(stats.totalWritten)} written since the stream was created; older ones may have left with retention`} />
          <Stat testId="stat-bytes" label="Size (estimate)" value={`≈ ${formatBytes(stats.bytes.estimate)}`} hint={`Average size of the newest ${stats.bytes.sampledRecords} record(s) (${formatBytes(stats.bytes.averageRecordBytes)}, key + value + headers) × records; framing and compression not counted`} />
          <Stat testId="stat-last" label="Last record" value={stats.lastRecordAt === null ? "never" : formatAgo(stats.lastRecordAt, now)} hint={stats.lastRecordAt === null ? undefined : new Date(stats.lastRecordAt).toISOString()} />
        </dl>
      ) : null}
      {stats && stats.partitions.length > 1 ? (
        <details className="mt-3 text-sm">
          <summary className="cursor-pointer text-slate-600">Per partition</summary>
          <table className="mt-2 w-full text-left text-xs">
            <thead className="text-slate-500"><tr><th className="py-1">Partition</th><th>Records</th><th>Last minute</th><th>Last record</th></tr></thead>
            <tbody className="font-mono">
              {stats.partitions.map((p) => (
                <tr key={p.partition}><td className="py-0.5">{p.partition}</td><td>{formatCount(p.records)}</td><td>{formatCount(p.recordsLastMinute)}</td><td>{p.lastRecordAt === null ? "—" : formatAgo(p.lastRecordAt, now)}</td></tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
    </section>
  );
}

/** At a glance in the catalog (inside CatalogStatsProvider): records/s and when the last record arrived. */
export function StreamStatsCell({ stream }: { stream: string }) {
  const ctx = useContext(CatalogStats);
  const stats = ctx?.byStream.get(stream);
  const now = ctx?.now ?? 0;
  if (!stats) return <span className="text-slate-400" title={ctx?.error ?? undefined}>{ctx?.error ? "unavailable" : ctx?.loaded ? "—" : "…"}</span>;
  return (
    <span className="whitespace-nowrap" data-testid="stream-stats-cell" title={`${formatCount(stats.records)} records, ≈ ${formatBytes(stats.bytes.estimate)} (estimate)`}>
      <span className="font-medium text-slate-900">{formatRate(stats.recordsPerSecond)}</span>
      <span className="text-slate-500"> · {stats.lastRecordAt === null ? "no records" : `last ${formatAgo(stats.lastRecordAt, now)}`}</span>
    </span>
  );
}
