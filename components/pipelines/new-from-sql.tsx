"use client";

import { useRouter } from "next/navigation";
import { useMemo, useState } from "react";
import { ApiError, apiFetch } from "@/components/ui/api";
import { Dialog, buttonStyles } from "@/components/ui/dialog";
import { useAction } from "@/components/ui/use-action";
import { SqlEditor, type SqlMark } from "@/components/canvas/sql-editor";

interface PlacedDiagnostic {
  severity: "error" | "warning" | "info";
  message: string;
  nodeId?: string;
  span?: { start: number; end: number; line: number; column: number };
}

const EXAMPLE = "INSERT INTO `dwd.team.big_clicks`\nSELECT user_id, amount\nFROM `ods.team.clicks`\nWHERE amount > 10.0;\n";

/**
 * "New from SQL": a name and Sluice SQL (docs/sql.md). The server builds and
 * lays out the graph and creates the pipeline only when it has no errors;
 * otherwise every diagnostic is listed with its line and column and marked
 * in the editor.
 */
export function NewPipelineFromSql({ team }: { team: string }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [sql, setSql] = useState(EXAMPLE);
  const [problems, setProblems] = useState<PlacedDiagnostic[]>([]);
  const { busy, error, run } = useAction({ staysBusyOnSuccess: true });
  const marks = useMemo<SqlMark[]>(() => problems.flatMap((p) => (p.span ? [{ start: p.span.start, end: Math.max(p.span.end, p.span.start + 1), severity: p.severity, message: p.message }] : [])), [problems]);

  const create = () =>
    run(async () => {
      setProblems([]);
      try {
        const r = await apiFetch<{ pipeline: string }>(`/api/v1/teams/${team}/pipelines/new-from-sql`, { body: { name, sql } });
        router.push(`/t/${team}/pipelines/${r.pipeline}`);
      } catch (e) {
        // Diagnostics placed in the SQL come back as the error's details.
        const details = e instanceof ApiError ? (e.details as unknown as PlacedDiagnostic[] | undefined) : undefined;
        if (details?.length && details.every((d) => typeof d.message === "string" && "severity" in d)) setProblems(details.filter((d) => d.severity !== "info"));
        throw e;
      }
    });

  return (
    <>
      <button onClick={() => setOpen(true)} className="rounded-md border border-brand-600 px-4 py-2 text-sm font-semibold text-brand-700 hover:bg-brand-50">New from SQL</button>
      {open ? (
        <Dialog
          wide
          title="New pipeline from SQL"
          onClose={() => setOpen(false)}
          footer={
            <>
              <button className={buttonStyles.secondary} onClick={() => setOpen(false)}>Cancel</button>
              <button className={buttonStyles.primary} disabled={busy || !name.trim() || !sql.trim()} onClick={() => void create()}>{busy ? "Creating…" : "Create pipeline"}</button>
            </>
          }
        >
          <label className="block text-xs font-medium text-slate-700">
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} aria-label="Pipeline name" placeholder="big-clicks" className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 font-mono text-sm" />
          </label>
          <p className="mt-3 text-xs text-slate-600">
            Sluice SQL: <code>INSERT INTO `stream` SELECT … FROM `stream` WHERE …</code>, <code>CREATE VIEW</code>, <code>UNION ALL</code>, CASE-routed splits and <code>TABLE(TUMBLE|HOP|SESSION(…))</code> windows (docs/sql.md). The graph is laid out for you.
          </p>
          <div className="mt-2 h-72">
            <SqlEditor label="Pipeline SQL" value={sql} onChange={setSql} marks={marks} testId="new-sql-editor" />
          </div>
          {error ? <p role="alert" className="mt-2 text-xs text-red-700">{error}</p> : null}
          {problems.length ? (
            <ul aria-label="SQL problems" className="mt-2 max-h-32 space-y-1 overflow-y-auto">
              {problems.map((p, i) => (
                <li key={i} className={`rounded px-2 py-1 text-xs ${p.severity === "error" ? "bg-red-50 text-red-700" : "bg-amber-50 text-amber-800"}`}>
                  {p.span ? <span className="font-mono">line {p.span.line}, column {p.span.column}: </span> : null}
                  {p.message}
                </li>
              ))}
            </ul>
          ) : null}
        </Dialog>
      ) : null}
    </>
  );
}
