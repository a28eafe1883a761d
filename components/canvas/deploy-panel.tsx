"use client";

import { useEffect, useRef, useState } from "react";
import { ApiError, apiFetch } from "@/components/ui/api";
import { Badge, stateTone } from "@/components/ui/badge";
import { buttonStyles } from "@/components/ui/dialog";
import type { DeploymentStatus } from "./use-deployment-status";

type Guarantee = "at_least_once" | "exactly_once";
type Action = { kind: "deploy"; version: number; parallelism: number; deliveryGuarantee: Guarantee } | { kind: "scale"; parallelism: number } | { kind: "stop" } | { kind: "resume" };

export interface DeployPanelProps {
  team: string;
  pipeline: string;
  /** The newest saved version (what Deploy/Redeploy sends). */
  savedVersion: number | null;
  /** Why deploying the saved version is not possible right now (unsaved edits, errors), or null. */
  blockedReason: string | null;
  status: DeploymentStatus | null;
  refresh: () => Promise<void>;
  onMessage: (m: { text: string; tone: "ok" | "error" }) => void;
}

const guaranteeLabel = (g: string) => g.replace(/_/g, "-");
/** A typed task count as the API takes it (1–64); the server still checks it against the source partitions. */
const taskCount = (text: string) => Math.min(64, Math.max(1, Math.floor(Number(text)) || 1));

/**
 * The editor's deployment controls: deploy the saved version (parallelism,
 * delivery guarantee) and, once deployed, its state (desired vs actual,
 * version, tasks) with stop / resume / scale / redeploy. A redeploy the server
 * refuses because window state cannot carry over shows the reason and offers
 * to deploy with the state reset.
 */
export function DeployPanel({ team, pipeline, savedVersion, blockedReason, status, refresh, onMessage }: DeployPanelProps) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [refused, setRefused] = useState<{ message: string; retry: Action } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const deployed = status?.deployed ? status : null;
  // Number inputs keep what is typed (an empty field while retyping); the number is read on submit.
  const [parallelismText, setParallelism] = useState("1");
  const [guarantee, setGuarantee] = useState<Guarantee>("at_least_once");
  const [scaleText, setScaleTo] = useState("1");
  const parallelism = taskCount(parallelismText);
  const scaleTo = taskCount(scaleText);
  const synced = useRef<number | null>(null);
  const panel = useRef<HTMLDivElement>(null);

  // Start the forms from what is deployed (once per deployment generation), not from 1 / at-least-once.
  useEffect(() => {
    if (!deployed || synced.current === deployed.generation) return;
    synced.current = deployed.generation;
    setParallelism(String(deployed.parallelism));
    setScaleTo(String(deployed.parallelism));
    setGuarantee(deployed.deliveryGuarantee as Guarantee);
  }, [deployed]);

  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (panel.current && !panel.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, [open]);

  async function run(action: Action, resetState = false) {
    setBusy(true);
    setError(null);
    setRefused(null);
    const base = `/api/v1/teams/${team}/pipelines/${pipeline}`;
    try {
      if (action.kind === "deploy") {
        const r = await apiFetch<{ version: number; parallelism: number; deliveryGuarantee: string }>(`${base}/deploy`, {
          body: { version: action.version, parallelism: action.parallelism, deliveryGuarantee: action.deliveryGuarantee, resetState },
        });
        onMessage({ text: `Deploying version ${r.version}: ${r.parallelism} task(s), ${guaranteeLabel(r.deliveryGuarantee)}${resetState ? ", window state reset" : ""}`, tone: "ok" });
      } else if (action.kind === "scale") {
        const r = await apiFetch<{ parallelism: number }>(`${base}/scale`, { body: { parallelism: action.parallelism, resetState } });
        onMessage({ text: `Scaling to ${r.parallelism} task(s)`, tone: "ok" });
      } else if (action.kind === "stop") {
        const r = await apiFetch<{ impact: { stream: string; summary: string; consumers: unknown[] }[] }>(`${base}/stop`, { body: {} });
        // Stopping starves whoever reads the sink streams: say so.
        const readers = r.impact.filter((i) => i.consumers.length > 0);
        onMessage({ text: `Stopping ${pipeline}${readers.length ? ` — ${readers.map((i) => `${i.stream}: ${i.summary}`).join("; ")}` : ""}`, tone: "ok" });
      } else {
        const r = await apiFetch<{ version: number }>(`${base}/resume`, { body: {} });
        onMessage({ text: `Resuming version ${r.version} from the committed offsets`, tone: "ok" });
      }
      await refresh();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      // 409 with the reset hint: window state cannot carry over (lib/pipelines/deployments.ts).
      if (e instanceof ApiError && e.status === 409 && /resetState/.test(message) && (action.kind === "deploy" || action.kind === "scale")) {
        setRefused({ message: message.replace(/ Deploy with resetState to start the windows empty\.?$/, ""), retry: action });
        setOpen(true);
      } else {
        setError(message);
        if (!open) onMessage({ text: message, tone: "error" });
      }
    } finally {
      setBusy(false);
    }
  }

  const deploySaved = () => savedVersion && run({ kind: "deploy", version: savedVersion, parallelism, deliveryGuarantee: guarantee });
  const options = (
    <>
      <input aria-label="Parallelism" type="number" min={1} max={deployed?.maxParallelism ?? 64} value={parallelismText} onChange={(e) => setParallelism(e.target.value)} className="w-14 rounded-md border border-slate-300 px-2 py-1 text-sm" />
      <select aria-label="Delivery guarantee" value={guarantee} onChange={(e) => setGuarantee(e.target.value as Guarantee)} className="rounded-md border border-slate-300 px-2 py-1 text-sm">
        <option value="at_least_once">at-least-once</option>
        <option value="exactly_once">exactly-once</option>
      </select>
    </>
  );
  const blocked = blockedReason ?? (savedVersion ? null : "Save a version first");

  if (!deployed) {
    return (
      <form onSubmit={(e) => { e.preventDefault(); void deploySaved(); }} className="flex items-center gap-2">
        {options}
        <button disabled={busy || !!blocked} title={blocked ?? `Deploy version ${savedVersion}`} className={buttonStyles.primary}>Deploy</button>
      </form>
    );
  }

  const running = deployed.desiredState === "running";
  const tasksRunning = deployed.tasks.filter((t) => t.state === "running").length;
  const stages = deployed.stages ?? ["main"];
  return (
    <div ref={panel} className="relative">
      <button onClick={() => setOpen((o) => !o)} aria-expanded={open} aria-controls="deployment-panel" className="flex items-center gap-2 rounded-md border border-slate-300 px-2.5 py-1 text-sm hover:bg-slate-50" data-testid="deployment-summary">
        <Badge tone={stateTone(deployed.actualState)}>{deployed.actualState}</Badge>
        <span>v{deployed.version}</span>
        {running ? <span className="text-xs text-slate-500">{tasksRunning}/{deployed.tasks.length || deployed.parallelism} tasks · {deployed.recordsPerSec}/s</span> : null}
        {running && deployed.waiting ? <span className="text-xs text-amber-700" data-testid="deployment-waiting-short">waiting for a worker slot</span> : null}
        <span aria-hidden="true" className="text-slate-400">▾</span>
        <span className="sr-only">Deployment details</span>
      </button>
      {open ? (
        <div id="deployment-panel" role="region" aria-label="Deployment" className="absolute right-0 top-full z-40 mt-1 w-[26rem] rounded-xl border border-slate-200 bg-white p-4 text-sm shadow-xl">
          <dl className="grid grid-cols-[8rem_1fr] gap-y-1 text-xs">
            <dt className="text-slate-500">Desired / actual</dt>
            <dd data-testid="deployment-state">{deployed.desiredState} / {deployed.actualState}</dd>
            <dt className="text-slate-500">Version</dt>
            <dd>v{deployed.version}{savedVersion && savedVersion !== deployed.version ? <span className="text-amber-700"> (v{savedVersion} saved, not deployed)</span> : null}</dd>
            <dt className="text-slate-500">Tasks</dt>
            <dd>{deployed.parallelism}{stages.length > 1 ? ` per stage × ${stages.length} stages` : ""} · {guaranteeLabel(deployed.deliveryGuarantee)}</dd>
            {deployed.maxParallelism ? (
              <>
                <dt className="text-slate-500">Max parallelism</dt>
                <dd data-testid="max-parallelism" title="The window state is split into this many key groups (the partitions of the repartition streams), fixed at the first deploy: scale up to this many tasks.">{deployed.maxParallelism} key groups</dd>
              </>
            ) : null}
            {deployed.internalStreams?.length ? (
              <>
                <dt className="text-slate-500">Repartition streams</dt>
                <dd data-testid="internal-streams" className="space-y-0.5">
                  {deployed.internalStreams.map((n) => (
                    <div key={n} className="truncate font-mono" title={`${n}: internal, written by the main stage, read by stage "${n.split(".").at(-2)}"`}>{n}</div>
                  ))}
                </dd>
              </>
            ) : null}
            <dt className="text-slate-500">Throughput · lag</dt>
            <dd>{deployed.recordsPerSec} records/s · {deployed.consumerLag.toLocaleString("en")} behind</dd>
          </dl>
          {deployed.lastError ? <p role="alert" className="mt-2 rounded bg-red-50 px-2 py-1 text-xs text-red-700">Last error: {deployed.lastError}</p> : null}
          {running && deployed.waiting ? (
            <p role="status" data-testid="deployment-waiting" className="mt-2 rounded bg-amber-50 px-2 py-1 text-xs text-amber-900">
              {deployed.waiting[0].toUpperCase() + deployed.waiting.slice(1)}. Tasks start as slots free up; to run more at once, add worker slots
              (<code>WORKER_SLOTS</code>) or workers (<code>npm run worker</code> on another machine). See docs/runtime.md, Capacity.
            </p>
          ) : null}
          {deployed.tasks.length ? (
            <table className="mt-3 w-full text-xs" aria-label="Tasks">
              <thead className="text-left text-slate-500"><tr><th>Task</th><th>State</th><th>Worker</th><th className="text-right">rec/s</th><th className="text-right">Lag</th></tr></thead>
              <tbody>
                {deployed.tasks.map((t) => (
                  <tr key={`${t.stage ?? "main"}-${t.index}`} title={t.lastError ?? undefined}>
                    <td>{stages.length > 1 ? `${t.stage ?? "main"} ` : ""}#{t.index}</td>
                    <td><Badge tone={stateTone(t.state)}>{t.state}</Badge></td>
                    <td className="max-w-[8rem] truncate font-mono">{t.worker ?? "—"}</td>
                    <td className="text-right font-mono">{t.recordsPerSec}</td>
                    <td className="text-right font-mono">{t.consumerLag}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}

          {refused ? (
            <div role="alert" className="mt-3 rounded-md border border-amber-300 bg-amber-50 p-2 text-xs text-amber-900">
              <p>{refused.message}.</p>
              <p className="mt-1">Resetting starts every window empty: results of windows still open are lost; records already written stay.</p>
              <div className="mt-2 flex gap-2">
                <button onClick={() => void run(refused.retry, true)} disabled={busy} className={buttonStyles.danger}>Reset window state and continue</button>
                <button onClick={() => setRefused(null)} className={buttonStyles.secondary}>Cancel</button>
              </div>
            </div>
          ) : null}
          {error ? <p role="alert" className="mt-3 rounded bg-red-50 px-2 py-1 text-xs text-red-700">{error}</p> : null}

          <div className="mt-4 space-y-3 border-t border-slate-100 pt-3">
            <div className="flex items-center gap-2">
              {running ? (
                <button onClick={() => void run({ kind: "stop" })} disabled={busy} className={buttonStyles.secondary}>Stop</button>
              ) : (
                <button onClick={() => void run({ kind: "resume" })} disabled={busy} className={buttonStyles.secondary}>Resume</button>
              )}
              <span className="text-xs text-slate-500">{running ? "Tasks stop at a committed point." : "Continues from the committed offsets."}</span>
            </div>
            {running ? (
              <form onSubmit={(e) => { e.preventDefault(); void run({ kind: "scale", parallelism: scaleTo }); }} className="flex items-center gap-2">
                <label className="text-xs text-slate-600" htmlFor="scale-to">Scale to (tasks)</label>
                <input id="scale-to" type="number" min={1} max={deployed.maxParallelism ?? 64} value={scaleText} onChange={(e) => setScaleTo(e.target.value)} className="w-16 rounded-md border border-slate-300 px-2 py-1 text-sm" />
                <button disabled={busy || scaleTo === deployed.parallelism} className={buttonStyles.secondary}>Scale</button>
              </form>
            ) : null}
            <form onSubmit={(e) => { e.preventDefault(); void deploySaved(); }} className="flex items-center gap-2">
              <span className="text-xs text-slate-600">Tasks, guarantee</span>
              {options}
              <button disabled={busy || !!blocked} title={blocked ?? undefined} className={buttonStyles.primary}>Redeploy{savedVersion ? ` v${savedVersion}` : ""}</button>
            </form>
            {blocked ? <p className="text-xs text-slate-500">{blocked}</p> : null}
          </div>
        </div>
      ) : null}
    </div>
  );
}
