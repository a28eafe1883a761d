"use client";

import { useCallback, useEffect, useState } from "react";
import { apiFetch } from "@/components/ui/api";
import { buttonStyles, Dialog } from "@/components/ui/dialog";
import { errorMessage, useAction } from "@/components/ui/use-action";
import { diffPipelines, formatDiffValue, summarizeDiff, type PipelineDiff } from "@/lib/pipeline/diff";
import type { PipelineDoc } from "./store";

export interface VersionSummary {
  version: number;
  message: string;
  author: { name: string; email: string } | null;
  createdAt: string;
}

/** Two saved versions being compared: `before` is the older one. */
export interface DiffSelection {
  from: number;
  to: number;
  before: PipelineDoc;
  after: PipelineDoc;
  diff: PipelineDiff;
}

export interface VersionsPanelProps {
  team: string;
  pipeline: string;
  /** The newest saved version; the list reloads when it changes (after a save). */
  latestVersion: number | null;
  /** The version the deployment runs, marked in the list. */
  deployedVersion?: number | null;
  /** Unsaved edits on the canvas: restoring asks before discarding them. */
  dirty: boolean;
  canEdit: boolean;
  diffing: DiffSelection | null;
  onShowDiff: (selection: DiffSelection) => void;
  onExitDiff: () => void;
  /** Loads a version's document into the editor as unsaved changes. */
  onRestore: (doc: PipelineDoc, version: number) => void;
  onFocusNode?: (nodeId: string) => void;
}

const when = (iso: string) => new Date(iso).toISOString().slice(0, 16).replace("T", " ");

async function loadVersion(team: string, pipeline: string, version: number): Promise<PipelineDoc> {
  return (await apiFetch<{ pipeline: PipelineDoc }>(`/api/v1/teams/${team}/pipelines/${pipeline}/versions/${version}`)).pipeline;
}

/**
 * The saved versions of a pipeline, newest first: pick two to see what changed
 * (highlighted on the canvas, with every changed config field listed), or
 * restore one into the editor.
 */
export function VersionsPanel({ team, pipeline, latestVersion, deployedVersion, dirty, canEdit, diffing, onShowDiff, onExitDiff, onRestore, onFocusNode }: VersionsPanelProps) {
  const [versions, setVersions] = useState<VersionSummary[] | null>(null);
  const [picked, setPicked] = useState<number[]>([]);
  const { busy, error, setError, run } = useAction();
  const [confirmRestore, setConfirmRestore] = useState<number | null>(null);

  useEffect(() => {
    let live = true;
    apiFetch<{ versions: VersionSummary[] }>(`/api/v1/teams/${team}/pipelines/${pipeline}/versions`)
      .then((r) => live && setVersions(r.versions))
      .catch((e) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, [team, pipeline, latestVersion, setError]);

  const toggle = (v: number) => setPicked((p) => (p.includes(v) ? p.filter((x) => x !== v) : [...p.slice(-1), v]));

  const compare = useCallback(() => {
    const [from, to] = [...picked].sort((a, b) => a - b);
    return run(async () => {
      const [before, after] = await Promise.all([loadVersion(team, pipeline, from), loadVersion(team, pipeline, to)]);
      onShowDiff({ from, to, before, after, diff: diffPipelines(before, after) });
    });
  }, [picked, team, pipeline, onShowDiff, run]);

  function restore(version: number) {
    setConfirmRestore(null);
    return run(async () => onRestore(await loadVersion(team, pipeline, version), version));
  }

  if (diffing) return <DiffList selection={diffing} onExit={onExitDiff} onFocusNode={onFocusNode} />;

  return (
    <div className="p-4 text-sm" aria-label="Versions" role="region">
      <div className="mb-2 flex items-center justify-between">
        <h2 className="font-semibold">Versions</h2>
        <button onClick={() => void compare()} disabled={picked.length !== 2 || busy} className={buttonStyles.secondary} title={picked.length !== 2 ? "Tick two versions to compare" : undefined}>
          {picked.length === 2 ? `Compare v${Math.min(...picked)} → v${Math.max(...picked)}` : "Compare"}
        </button>
      </div>
      {error ? <p role="alert" className="mb-2 rounded bg-red-50 px-2 py-1 text-xs text-red-700">{error}</p> : null}
      {versions === null ? <p className="text-xs text-slate-500">Loading…</p> : null}
      {versions?.length === 0 ? <p className="text-xs text-slate-500">No saved version yet. Save one to start the history.</p> : null}
      <ul className="space-y-1.5">
        {versions?.map((v) => (
          <li key={v.version} className={`rounded-md border px-2 py-1.5 ${picked.includes(v.version) ? "border-brand-500 bg-brand-50" : "border-slate-200"}`} data-testid={`version-${v.version}`}>
            <div className="flex items-center gap-2">
              <input type="checkbox" aria-label={`Compare v${v.version}`} checked={picked.includes(v.version)} onChange={() => toggle(v.version)} />
              <span className="font-mono text-xs font-semibold">v{v.version}</span>
              {v.version === latestVersion ? <span className="rounded bg-slate-100 px-1 text-[10px] text-slate-600">latest</span> : null}
              {v.version === deployedVersion ? <span className="rounded bg-emerald-50 px-1 text-[10px] font-medium text-emerald-700">deployed</span> : null}
              <span className="ml-auto text-[11px] text-slate-500">{when(v.createdAt)}</span>
            </div>
            <p className="mt-0.5 break-words text-xs text-slate-800">{v.message || <span className="italic text-slate-400">no message</span>}</p>
            <div className="mt-0.5 flex items-center text-[11px] text-slate-500">
              <span className="truncate">{v.author ? v.author.name || v.author.email : "API token"}</span>
              {canEdit ? (
                <button onClick={() => (dirty ? setConfirmRestore(v.version) : void restore(v.version))} disabled={busy} className="ml-auto font-medium text-brand-700 hover:underline" aria-label={`Restore v${v.version}`}>
                  Restore
                </button>
              ) : null}
            </div>
          </li>
        ))}
      </ul>
      {confirmRestore !== null ? (
        <Dialog
          title={`Restore v${confirmRestore}?`}
          onClose={() => setConfirmRestore(null)}
          footer={<>
            <button onClick={() => setConfirmRestore(null)} className={buttonStyles.secondary} data-autofocus>Keep editing</button>
            <button onClick={() => void restore(confirmRestore)} className={buttonStyles.danger}>Discard my changes and restore</button>
          </>}
        >
          <p>The canvas has unsaved changes. Restoring v{confirmRestore} replaces them (undo brings them back until you leave the page).</p>
        </Dialog>
      ) : null}
    </div>
  );
}

/** The changes of a version diff, node by node, each config field before → after. */
export function DiffList({ selection, onExit, onFocusNode }: { selection: DiffSelection; onExit: () => void; onFocusNode?: (nodeId: string) => void }) {
  const { diff, from, to } = selection;
  const nodeButton = (id: string) =>
    onFocusNode ? <button onClick={() => onFocusNode(id)} className="font-mono font-semibold hover:underline">{id}</button> : <span className="font-mono font-semibold">{id}</span>;
  return (
    <div className="p-4 text-sm" role="region" aria-label="Version diff">
      <div className="mb-2 flex items-center justify-between">
        <h2 className="font-semibold">v{from} → v{to}</h2>
        <button onClick={onExit} className={buttonStyles.secondary}>Exit diff</button>
      </div>
      <p className="mb-3 text-xs text-slate-600" data-testid="diff-summary">{summarizeDiff(diff)}</p>
      <ul className="space-y-2 text-xs" aria-label="Changes">
        {diff.changed.map((n) => (
          <li key={n.id} className="rounded-md border border-amber-300 bg-amber-50 px-2 py-1.5" data-testid={`diff-changed-${n.id}`}>
            <div>{nodeButton(n.id)} <span className="text-amber-800">changed</span>{n.typeBefore ? <span className="text-amber-800"> ({n.typeBefore} → {n.type})</span> : null}</div>
            <ul className="mt-1 space-y-1">
              {n.changes.map((c) => (
                <li key={c.path}>
                  <span className="font-mono text-slate-600">{c.path.replace(/^config\./, "")}</span>
                  <div className="mt-0.5 break-all font-mono">
                    <del className="bg-red-100 text-red-800 no-underline" aria-label="before">{formatDiffValue(c.before)}</del>
                    <span aria-hidden="true" className="px-1 text-slate-400">→</span>
                    <ins className="bg-emerald-100 text-emerald-800 no-underline" aria-label="after">{formatDiffValue(c.after)}</ins>
                  </div>
                </li>
              ))}
            </ul>
          </li>
        ))}
        {diff.added.map((n) => (
          <li key={n.id} className="rounded-md border border-emerald-300 bg-emerald-50 px-2 py-1.5" data-testid={`diff-added-${n.id}`}>{nodeButton(n.id)} <span className="text-emerald-800">added ({n.type})</span></li>
        ))}
        {diff.removed.map((n) => (
          <li key={n.id} className="rounded-md border border-dashed border-red-300 bg-red-50 px-2 py-1.5" data-testid={`diff-removed-${n.id}`}>{nodeButton(n.id)} <span className="text-red-800">removed ({n.type})</span></li>
        ))}
        {diff.addedEdges.map((e) => (
          <li key={`+${e.source}:${e.sourcePort}>${e.target}:${e.targetPort}`} className="font-mono text-emerald-800">+ {e.source}{e.sourcePort !== "out" ? `.${e.sourcePort}` : ""} → {e.target}</li>
        ))}
        {diff.removedEdges.map((e) => (
          <li key={`-${e.source}:${e.sourcePort}>${e.target}:${e.targetPort}`} className="font-mono text-red-800">− {e.source}{e.sourcePort !== "out" ? `.${e.sourcePort}` : ""} → {e.target}</li>
        ))}
      </ul>
    </div>
  );
}

/** Asks for the message of the version being saved (shown in the version list). */
export function SaveVersionDialog({ onSave, onClose, saving, error }: { onSave: (message: string) => void; onClose: () => void; saving: boolean; error: string | null }) {
  const [message, setMessage] = useState("");
  return (
    <Dialog
      title="Save version"
      onClose={onClose}
      footer={<>
        <button onClick={onClose} className={buttonStyles.secondary}>Cancel</button>
        <button onClick={() => onSave(message.trim())} disabled={saving} className={buttonStyles.primary}>Save</button>
      </>}
    >
      <label htmlFor="version-message" className="block text-xs font-medium text-slate-600">What changed? (shown in the version list)</label>
      <textarea
        id="version-message"
        value={message}
        maxLength={1000}
        rows={3}
        onChange={(e) => setMessage(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            onSave(message.trim());
          }
        }}
        placeholder="e.g. only orders above 20 €"
        className="mt-1 w-full rounded-md border border-slate-300 px-3 py-2 text-sm"
      />
      {error ? <p role="alert" className="mt-2 text-xs text-red-700">{error}</p> : null}
    </Dialog>
  );
}
