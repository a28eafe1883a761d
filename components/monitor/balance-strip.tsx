"use client";

import { useState } from "react";
import type { MinuteBalance, ReconciliationResponse } from "./types";

const COLORS = { balanced: "bg-emerald-500", mismatch: "bg-red-600", pending: "bg-slate-300" } as const;

const clock = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function describe(m: MinuteBalance): string {
  const head = `${clock(m.minute)} · ${m.status}: read ${m.reads}, written ${m.written}, filtered ${m.filtered}, dead-lettered ${m.deadLettered}${m.late ? `, late ${m.late}` : ""}`;
  return m.problems.length ? `${head}\n${m.problems.map((p) => p.message).join("\n")}` : head;
}

/**
 * One cell per minute: green when every node and edge balanced, red when
 * records went missing (or were counted twice) — with the node and the
 * difference — and grey while the minute is still open or a task is
 * flushing. Minutes without data stay blank.
 */
export function BalanceStrip({ data, from, to }: { data: ReconciliationResponse; from: number; to: number }) {
  const [picked, setPicked] = useState<MinuteBalance | null>(null);
  const byMinute = new Map(data.minutes.map((m) => [Date.parse(m.minute) / 1000, m]));
  const cells: { t: number; m?: MinuteBalance }[] = [];
  for (let t = Math.floor(from / 60) * 60; t < to; t += 60) cells.push({ t, m: byMinute.get(t) });
  const mismatched = data.minutes.filter((m) => m.status === "mismatch");
  const s = data.summary;
  return (
    <section aria-label="Reconciliation" className="rounded-lg border border-slate-200 bg-white p-3">
      <div className="mb-2 flex flex-wrap items-baseline gap-x-4 gap-y-1 text-sm">
        <h2 className="font-medium text-slate-700">Reconciliation</h2>
        <span data-testid="reconciliation-summary" className={s.mismatched ? "font-medium text-red-700" : "text-slate-600"}>
          {s.mismatched ? `${s.mismatched} minute(s) do not balance` : s.balanced ? `${s.balanced} minute(s) balanced` : "nothing to check yet"}
          {s.pending ? ` · ${s.pending} pending` : ""}
        </span>
        <span className="text-xs text-slate-500">read {s.reads.toLocaleString("en")} = written {s.written.toLocaleString("en")} + filtered {s.filtered.toLocaleString("en")} + dead-lettered {s.deadLettered.toLocaleString("en")}{s.late ? ` + late ${s.late.toLocaleString("en")}` : ""} (+ aggregated by windows)</span>
      </div>
      <div className="flex h-5 w-full gap-px" data-testid="balance-strip">
        {cells.map(({ t, m }) => (
          <button
            key={t}
            type="button"
            title={m ? describe(m) : `${clock(new Date(t * 1000).toISOString())} · no data`}
            aria-label={m ? `${clock(m.minute)} ${m.status}` : undefined}
            data-status={m?.status ?? "empty"}
            onClick={() => m && setPicked(m)}
            className={`min-w-0 flex-1 rounded-[1px] ${m ? COLORS[m.status] : "bg-slate-100"}`}
          />
        ))}
      </div>
      {picked ? (
        <div className="mt-2 rounded-md bg-slate-50 p-2 text-xs text-slate-700" role="status">
          <p className="font-medium">{describe(picked).split("\n")[0]}</p>
          {picked.problems.map((p, i) => (
            <p key={i} className="text-red-700">v{p.version} · {p.kind === "edge" ? "edge into" : "node"} “{p.nodeId}”: expected {p.expected}, counted {p.actual} ({p.difference > 0 ? `${p.difference} missing` : `${-p.difference} extra`}) — {p.message}</p>
          ))}
        </div>
      ) : null}
      {mismatched.length ? (
        <ul className="mt-2 space-y-0.5 text-xs text-red-700" data-testid="mismatches">
          {mismatched.slice(-10).map((m) => (
            <li key={m.minute}>{clock(m.minute)}: {m.problems.map((p) => `“${p.nodeId}” ${p.difference > 0 ? `${p.difference} missing` : `${-p.difference} extra`}`).join(", ")}</li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
