"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { apiFetch } from "@/components/ui/api";
import { buttonStyles, Dialog } from "@/components/ui/dialog";
import { errorMessage, useAction } from "@/components/ui/use-action";

interface Impact {
  consumers: { pipeline: string; team: string; state: string }[];
  summary: string;
}

/**
 * Delete a stream (owner team editors). The confirm dialog loads the impact
 * first — which pipelines, in which teams, read it — because deleting takes
 * their input away for good; with readers the server needs force, so the
 * button says "Delete anyway".
 */
export function DeleteStream({ team, stream }: { team: string; stream: string }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [impact, setImpact] = useState<Impact | null>(null);
  const [typed, setTyped] = useState("");
  const { busy: pending, error, setError, run } = useAction({ staysBusyOnSuccess: true });
  const base = `/api/v1/teams/${team}/streams/${encodeURIComponent(stream)}`;

  const openDialog = async () => {
    setOpen(true);
    setImpact(null);
    setTyped("");
    setError(null);
    try {
      setImpact(await apiFetch<Impact>(`${base}/impact`));
    } catch (e) {
      setError(`Could not load who reads this stream: ${errorMessage(e)}`);
    }
  };

  const remove = () =>
    run(async () => {
      await apiFetch(`${base}${impact?.consumers.length ? "?force=true" : ""}`, { method: "DELETE" });
      router.push(`/t/${team}/streams`);
      router.refresh();
    });

  if (!open) {
    return (
      <button type="button" onClick={openDialog} className="rounded-md border border-red-300 px-3 py-1.5 text-sm font-medium text-red-700 hover:bg-red-50">
        Delete stream
      </button>
    );
  }
  const readers = impact?.consumers ?? [];
  return (
    <Dialog
      title={`Delete ${stream}?`}
      onClose={() => setOpen(false)}
      footer={
        <>
          <button type="button" onClick={() => setOpen(false)} className={buttonStyles.secondary}>Cancel</button>
          <button type="button" disabled={pending || impact === null || typed !== stream} onClick={remove} className={buttonStyles.danger}>
            {pending ? "Deleting…" : readers.length ? "Delete anyway" : "Delete stream"}
          </button>
        </>
      }
    >
      <div className="space-y-3">
        <p>Its records and schema versions are deleted for good; access grants to other teams end.</p>
        {impact === null && !error ? <p className="text-slate-500">Checking who reads this stream…</p> : null}
        {impact ? (
          <div className={`rounded-md p-3 ${readers.length ? "bg-amber-50 text-amber-900" : "bg-slate-50 text-slate-700"}`} data-testid="delete-impact">
            <p className="font-medium">{impact.summary}</p>
            {readers.length ? (
              <>
                <ul className="mt-2 list-disc pl-5">
                  {readers.map((c) => (
                    <li key={`${c.team}/${c.pipeline}`}>
                      <span className="font-mono">{c.pipeline}</span> in team <span className="font-medium">{c.team}</span> ({c.state})
                    </li>
                  ))}
                </ul>
                <p className="mt-2">Running ones fail when their source disappears. Better: stop or change them first.</p>
              </>
            ) : null}
          </div>
        ) : null}
        <label className="block font-medium text-slate-700">
          Type the stream name to confirm
          <input value={typed} onChange={(e) => setTyped(e.target.value)} className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 font-mono text-sm" autoComplete="off" />
        </label>
        {error ? <p role="alert" className="text-red-700">{error}</p> : null}
      </div>
    </Dialog>
  );
}
