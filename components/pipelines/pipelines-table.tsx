"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState } from "react";
import { apiFetch } from "@/components/ui/api";
import { Badge, stateTone } from "@/components/ui/badge";
import { buttonStyles, Dialog } from "@/components/ui/dialog";
import { useAction } from "@/components/ui/use-action";

export interface PipelineRow {
  id: string;
  name: string;
  description: string;
  team: string;
  latestVersion: number | null;
  deployment: { version: number; desiredState: string; actualState: string; parallelism: number; deliveryGuarantee: string } | null;
  live: { tasksRunning: number; tasks: number; recordsPerSec: number; consumerLag: number; failed: number } | null;
  updatedAt: string;
}

/** Live numbers go stale in seconds; this is how often the list refreshes them (one request for all rows). */
const REFRESH_MS = 5_000;

const formatRate = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k/s` : `${n}/s`);

export function PipelinesTable({ team, initial, canEdit }: { team: string; initial: PipelineRow[]; canEdit: boolean }) {
  const router = useRouter();
  const [rows, setRows] = useState(initial);
  const [query, setQuery] = useState("");
  const [duplicating, setDuplicating] = useState<PipelineRow | null>(null);
  const [deleting, setDeleting] = useState<PipelineRow | null>(null);

  useEffect(() => setRows(initial), [initial]);
  useEffect(() => {
    let stopped = false;
    const t = setInterval(async () => {
      if (document.hidden) return; // nobody is looking: no load on the API
      try {
        const r = await apiFetch<{ pipelines: PipelineRow[] }>(`/api/v1/teams/${team}/pipelines?live=1`);
        if (!stopped) setRows(r.pipelines);
      } catch {
        // A missed refresh keeps the last numbers; the next tick tries again.
      }
    }, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, [team]);

  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    return q ? rows.filter((p) => p.name.includes(q) || p.description.toLowerCase().includes(q)) : rows;
  }, [rows, query]);

  return (
    <>
      <div className="mb-3 flex items-center gap-3">
        <input type="search" aria-label="Search pipelines" placeholder="Search by name…" value={query} onChange={(e) => setQuery(e.target.value)} className="w-72 rounded-md border border-slate-300 px-3 py-1.5 text-sm" />
        <span className="text-xs text-slate-500">{shown.length === rows.length ? `${rows.length} pipeline(s)` : `${shown.length} of ${rows.length}`}</span>
      </div>
      <div className="overflow-hidden rounded-xl border border-slate-200 bg-white">
        <table className="min-w-full divide-y divide-slate-200 text-sm" aria-label="Pipelines">
          <thead className="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
            <tr>
              <th className="px-4 py-3">Name</th>
              <th className="px-4 py-3">Owner team</th>
              <th className="px-4 py-3">Latest</th>
              <th className="px-4 py-3">Deployed</th>
              <th className="px-4 py-3">State</th>
              <th className="px-4 py-3 text-right">Throughput</th>
              <th className="px-4 py-3 text-right">Lag</th>
              {canEdit ? <th className="px-4 py-3"><span className="sr-only">Actions</span></th> : null}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {shown.map((p) => {
              const running = p.deployment?.desiredState === "running";
              return (
                <tr key={p.id} data-testid={`pipeline-row-${p.name}`}>
                  <td className="px-4 py-3">
                    <Link href={`/t/${team}/pipelines/${p.name}`} className="whitespace-nowrap font-medium text-slate-900 hover:text-brand-700 hover:underline">{p.name}</Link>
                    {p.description ? <div className="text-xs text-slate-500">{p.description}</div> : null}
                  </td>
                  <td className="whitespace-nowrap px-4 py-3 text-slate-600">{p.team}</td>
                  <td className="px-4 py-3">{p.latestVersion ? `v${p.latestVersion}` : <span className="text-slate-400">none saved</span>}</td>
                  <td className="px-4 py-3">{p.deployment ? `v${p.deployment.version} · ${p.deployment.parallelism} task(s) · ${p.deployment.deliveryGuarantee.replace(/_/g, "-")}` : <span className="text-slate-400">not deployed</span>}</td>
                  <td className="px-4 py-3">
                    {p.deployment ? (
                      <span className="flex items-center gap-1.5">
                        <Badge tone={stateTone(p.deployment.actualState)}>{p.deployment.actualState}</Badge>
                        {p.deployment.desiredState !== p.deployment.actualState && p.deployment.desiredState !== "running" ? <span className="text-xs text-slate-500">→ {p.deployment.desiredState}</span> : null}
                        {p.live ? <span className="text-xs text-slate-500" title="tasks running / tasks">{p.live.tasksRunning}/{p.live.tasks}</span> : null}
                        {p.live?.failed ? <Badge tone="red">{p.live.failed} failed</Badge> : null}
                      </span>
                    ) : (
                      <Badge>draft</Badge>
                    )}
                  </td>
                  <td className="px-4 py-3 text-right font-mono text-xs">{p.live ? formatRate(p.live.recordsPerSec) : <span className="text-slate-400">—</span>}</td>
                  <td className="px-4 py-3 text-right font-mono text-xs">{p.live ? p.live.consumerLag.toLocaleString("en") : <span className="text-slate-400">—</span>}</td>
                  {canEdit ? (
                    <td className="whitespace-nowrap px-4 py-3 text-right">
                      <button onClick={() => setDuplicating(p)} className="text-xs font-medium text-brand-700 hover:underline" aria-label={`Duplicate ${p.name}`}>Duplicate</button>
                      <button onClick={() => setDeleting(p)} className="ml-3 text-xs font-medium text-red-700 hover:underline disabled:text-slate-400 disabled:no-underline" aria-label={`Delete ${p.name}`} disabled={running} title={running ? "Stop the deployment first: a running pipeline cannot be deleted" : undefined}>Delete</button>
                    </td>
                  ) : null}
                </tr>
              );
            })}
            {!shown.length ? (
              <tr><td colSpan={canEdit ? 8 : 7} className="px-4 py-6 text-center text-sm text-slate-500">No pipeline name matches “{query}”.</td></tr>
            ) : null}
          </tbody>
        </table>
      </div>
      {duplicating ? <DuplicateDialog team={team} source={duplicating} onClose={() => setDuplicating(null)} onDone={(name) => router.push(`/t/${team}/pipelines/${name}`)} /> : null}
      {deleting ? <DeleteDialog team={team} pipeline={deleting} onClose={() => setDeleting(null)} onDone={() => { setRows((rs) => rs.filter((r) => r.id !== deleting.id)); setDeleting(null); router.refresh(); }} /> : null}
    </>
  );
}

function DuplicateDialog({ team, source, onClose, onDone }: { team: string; source: PipelineRow; onClose: () => void; onDone: (name: string) => void }) {
  const [name, setName] = useState(`${source.name}-copy`);
  const { busy, error, run } = useAction({ staysBusyOnSuccess: true });
  const submit = () =>
    run(async () => {
      const p = await apiFetch<{ name: string }>(`/api/v1/teams/${team}/pipelines/${source.name}/duplicate`, { body: { name } });
      onDone(p.name);
    });
  return (
    <Dialog
      title={`Duplicate ${source.name}`}
      onClose={onClose}
      footer={<>
        <button onClick={onClose} className={buttonStyles.secondary}>Cancel</button>
        <button onClick={submit} disabled={busy || !name.trim()} className={buttonStyles.primary}>Duplicate</button>
      </>}
    >
      <p>{source.latestVersion ? `The copy starts with version ${source.latestVersion} of ${source.name} as its v1. It is not deployed.` : `${source.name} has no saved version: the copy starts empty.`}</p>
      <label className="mt-3 block text-xs font-medium text-slate-600" htmlFor="duplicate-name">Name of the copy</label>
      <input id="duplicate-name" value={name} onChange={(e) => setName(e.target.value)} onKeyDown={(e) => e.key === "Enter" && void submit()} className="mt-1 w-full rounded-md border border-slate-300 px-3 py-1.5 font-mono text-sm" />
      {error ? <p role="alert" className="mt-2 text-xs text-red-700">{error}</p> : null}
    </Dialog>
  );
}

function DeleteDialog({ team, pipeline, onClose, onDone }: { team: string; pipeline: PipelineRow; onClose: () => void; onDone: () => void }) {
  const { busy, error, run } = useAction({ staysBusyOnSuccess: true });
  const submit = () =>
    run(async () => {
      await apiFetch(`/api/v1/teams/${team}/pipelines/${pipeline.name}`, { method: "DELETE" });
      onDone();
    });
  return (
    <Dialog
      title={`Delete ${pipeline.name}?`}
      onClose={onClose}
      footer={<>
        <button onClick={onClose} className={buttonStyles.secondary} data-autofocus>Cancel</button>
        <button onClick={submit} disabled={busy} className={buttonStyles.danger}>Delete pipeline</button>
      </>}
    >
      <p>Its {pipeline.latestVersion ?? 0} saved version(s){pipeline.deployment ? " and its stopped deployment" : ""} are deleted. Streams it wrote stay in the warehouse.</p>
      {error ? <p role="alert" className="mt-2 text-xs text-red-700">{error}</p> : null}
    </Dialog>
  );
}
