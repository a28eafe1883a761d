"use client";

import { useEffect, useState } from "react";
import { apiFetch } from "@/components/ui/api";

interface StreamRecord {
  partition: number;
  offset: string;
  timestamp: number;
  key: string | null;
  value: unknown;
  raw?: string;
}

const keyOf = (r: StreamRecord) => `${r.partition}:${r.offset}`;

/** Newest on top, each record once (the newest-records read and the tail can overlap). */
function merge(a: StreamRecord[], b: StreamRecord[]): StreamRecord[] {
  const byKey = new Map<string, StreamRecord>();
  for (const r of [...a, ...b]) byKey.set(keyOf(r), r);
  return [...byKey.values()].sort((x, y) => y.timestamp - x.timestamp || y.partition - x.partition || Number(BigInt(y.offset) - BigInt(x.offset))).slice(0, 200);
}

/** The newest records, then new ones as they arrive (SSE tail), newest on top. */
export function LiveRecords({ team, stream, initial }: { team: string; stream: string; initial: StreamRecord[] }) {
  const [records, setRecords] = useState<StreamRecord[]>([...initial].reverse());
  const [live, setLive] = useState(true);
  const [ended, setEnded] = useState<string | null>(null);
  useEffect(() => {
    if (!live) return;
    setEnded(null);
    const base = `/api/v1/teams/${team}/streams/${encodeURIComponent(stream)}`;
    const es = new EventSource(`${base}/tail`);
    es.addEventListener("records", (e) => {
      const batch = JSON.parse((e as MessageEvent).data) as StreamRecord[];
      setRecords((rs) => merge(rs, batch));
    });
    // The server ended the tail (access revoked, maximum duration reached): say why, and do not let
    // EventSource reconnect on its own. A connection error (no data) is left to EventSource's retry.
    es.addEventListener("error", (e) => {
      const data = (e as MessageEvent).data;
      if (typeof data !== "string") return;
      es.close();
      setEnded((JSON.parse(data) as { message: string }).message);
      setLive(false);
    });
    // The tail starts at the high watermark it reads just after connecting:
    // records written between the page render and then would be missed, so
    // read the newest ones again once the tail is open and once more a moment
    // later (the tail reads its start position after the headers are sent).
    const timers: ReturnType<typeof setTimeout>[] = [];
    const catchUp = () =>
      apiFetch<{ records: StreamRecord[] }>(`${base}/records?limit=50`)
        .then((r) => setRecords((rs) => merge(rs, r.records)))
        .catch(() => undefined);
    es.addEventListener("open", () => {
      void catchUp();
      timers.push(setTimeout(catchUp, 1500));
    });
    return () => {
      es.close();
      timers.forEach(clearTimeout);
    };
  }, [team, stream, live]);
  return (
    <section className="rounded-xl border border-slate-200 bg-white">
      <div className="flex items-center justify-between border-b border-slate-200 px-4 py-3">
        <h2 className="text-sm font-semibold">Records</h2>
        <label className="flex items-center gap-2 text-sm text-slate-600">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} /> live tail
          {live ? <span className="h-2 w-2 animate-pulse rounded-full bg-emerald-500" aria-hidden="true" /> : null}
        </label>
      </div>
      {ended ? <p role="status" className="border-b border-slate-200 bg-amber-50 px-4 py-2 text-sm text-amber-800">{ended}</p> : null}
      {records.length === 0 ? (
        <p className="px-4 py-6 text-sm text-slate-500">No records yet. Produce some with <code className="font-mono">sluice stream produce</code> or a pipeline; they appear here as they arrive.</p>
      ) : (
        <div className="max-h-[28rem] overflow-auto">
          <table className="min-w-full text-sm" data-testid="records-table">
            <thead className="sticky top-0 bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
              <tr><th className="px-3 py-2">Partition</th><th className="px-3 py-2">Offset</th><th className="px-3 py-2">Time</th><th className="px-3 py-2">Key</th><th className="px-3 py-2">Value</th></tr>
            </thead>
            <tbody className="divide-y divide-slate-100 font-mono text-[12px]">
              {records.map((r) => (
                <tr key={`${r.partition}:${r.offset}`}>
                  <td className="px-3 py-1.5">{r.partition}</td>
                  <td className="px-3 py-1.5">{r.offset}</td>
                  <td className="whitespace-nowrap px-3 py-1.5">{new Date(r.timestamp).toISOString().replace("T", " ").slice(0, 23)}</td>
                  <td className="px-3 py-1.5">{r.key ?? <span className="text-slate-400">null</span>}</td>
                  <td className="px-3 py-1.5">{r.raw !== undefined ? <span className="text-red-700" title="not JSON">{r.raw}</span> : JSON.stringify(r.value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
