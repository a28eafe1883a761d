"use client";

import { useEffect, useState } from "react";
import { apiFetch } from "@/components/ui/api";
import { SqlEditor } from "./sql-editor";
import type { PipelineDoc } from "./store";

interface Problem {
  nodeId?: string;
  message: string;
}

/**
 * The canvas's SQL tab: the pipeline as Sluice SQL (docs/sql.md), rebuilt
 * when what the pipeline does changes (not when nodes move), with Copy. A
 * node SQL cannot express is listed with the reason, and selecting it shows
 * it on the canvas.
 */
export function SqlView({ team, logicVersion, graph, onSelectNode }: { team: string; logicVersion: number; graph: () => PipelineDoc; onSelectNode: (id: string) => void }) {
  const [state, setState] = useState<{ sql: string | null; problems: Problem[]; error?: string; loading: boolean }>({ sql: null, problems: [], loading: true });
  const [copied, setCopied] = useState<"Copied" | "Copy failed" | null>(null);

  useEffect(() => {
    let stale = false;
    const t = setTimeout(async () => {
      try {
        const r = await apiFetch<{ sql: string | null; diagnostics: Problem[] }>(`/api/v1/teams/${team}/pipelines/to-sql`, { body: { pipeline: graph() } });
        if (!stale) setState({ sql: r.sql, problems: r.diagnostics, loading: false });
      } catch (e) {
        if (!stale) setState({ sql: null, problems: [], error: e instanceof Error ? e.message : String(e), loading: false });
      }
    }, 250);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [logicVersion, team, graph]);

  async function copy() {
    if (!state.sql) return;
    const ok = await navigator.clipboard.writeText(state.sql).then(() => true, () => false);
    setCopied(ok ? "Copied" : "Copy failed");
    setTimeout(() => setCopied(null), 1500);
  }

  return (
    <div className="flex h-full min-h-0 flex-col gap-2 p-3" aria-label="SQL view">
      <div className="flex items-center gap-3 text-xs text-slate-600">
        <span>The pipeline as Sluice SQL (docs/sql.md), updated as you edit the graph.</span>
        <button onClick={() => void copy()} disabled={!state.sql} className="ml-auto rounded-md border border-slate-300 px-3 py-1 text-sm disabled:opacity-40">{copied ?? "Copy"}</button>
      </div>
      {state.error ? <p role="alert" className="rounded bg-red-50 px-3 py-2 text-sm text-red-700">{state.error}</p> : null}
      {state.problems.length ? (
        <ul aria-label="Not expressible in SQL" className="space-y-1">
          {state.problems.map((p, i) => (
            <li key={i}>
              <button onClick={() => p.nodeId && onSelectNode(p.nodeId)} className="w-full rounded bg-amber-50 px-2 py-1 text-left text-xs text-amber-900">{p.message}</button>
            </li>
          ))}
        </ul>
      ) : null}
      <div className="min-h-0 flex-1">
        {state.sql !== null ? <SqlEditor label="Pipeline SQL" value={state.sql} readOnly testId="sql-view" /> : state.loading ? <p className="text-sm text-slate-500">Writing SQL…</p> : null}
      </div>
    </div>
  );
}
