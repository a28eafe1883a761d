"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { apiFetch, ApiError } from "@/components/ui/api";
import { errorMessage, useAction } from "@/components/ui/use-action";

const TYPES = ["string", "int", "float", "bool", "timestamp", "json"] as const;
interface FieldRow {
  name: string;
  type: (typeof TYPES)[number];
  nullable: boolean;
}

/** The server's message plus every field it rejected, so a bad schema row can be found. */
function describeFailure(e: unknown): string {
  const details = e instanceof ApiError && e.details?.length ? `: ${e.details.map((d) => `${d.path.join(".")} ${d.message}`).join("; ")}` : "";
  return `${errorMessage(e)}${details}`;
}

/** Create a stream: name, layer, partitions, visibility, and its first schema version (field rows). */
export function CreateStreamForm({ team }: { team: string }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [fields, setFields] = useState<FieldRow[]>([{ name: "", type: "string", nullable: false }]);
  const { busy: pending, error, run } = useAction({ staysBusyOnSuccess: true, describe: describeFailure });
  const setField = (i: number, patch: Partial<FieldRow>) => setFields((fs) => fs.map((f, j) => (j === i ? { ...f, ...patch } : f)));

  const submit = (form: FormData) =>
    run(async () => {
      const name = String(form.get("name"));
      await apiFetch(`/api/v1/teams/${team}/streams`, {
        body: {
          name,
          layer: form.get("layer"),
          partitions: Number(form.get("partitions")),
          visibility: form.get("visibility"),
          description: String(form.get("description") ?? ""),
          schema: fields.map((f) => ({ name: f.name.trim(), type: f.type, ...(f.nullable ? { nullable: true } : {}) })),
        },
      });
      router.push(`/t/${team}/streams/${encodeURIComponent(name)}`);
      router.refresh();
    });

  if (!open) {
    return (
      <button onClick={() => setOpen(true)} className="rounded-md bg-brand-600 px-4 py-2 text-sm font-semibold text-white hover:bg-brand-700">
        New stream
      </button>
    );
  }
  const input = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm";
  return (
    <div role="dialog" aria-label="New stream" className="fixed inset-0 z-20 flex items-start justify-center overflow-y-auto bg-slate-900/30 p-8">
      <form action={submit} className="w-full max-w-2xl space-y-4 rounded-xl bg-white p-6 shadow-xl">
        <h2 className="text-lg font-semibold">New stream</h2>
        <div className="grid grid-cols-2 gap-4">
          <label className="col-span-2 block text-sm font-medium text-slate-700">
            Name
            <input name="name" required placeholder="ods.ads.clicks" className={`${input} font-mono`} />
          </label>
          <label className="block text-sm font-medium text-slate-700">
            Layer
            <select name="layer" className={input} defaultValue="ODS">
              <option value="ODS">ODS — raw operational data</option>
              <option value="DWD">DWD — cleaned detail</option>
              <option value="DWS">DWS — aggregated summaries</option>
              <option value="ADS">ADS — application-ready</option>
            </select>
          </label>
          <label className="block text-sm font-medium text-slate-700">
            Visibility
            <select name="visibility" className={input} defaultValue="team">
              <option value="team">team — listed; others request access</option>
              <option value="public">public — every team reads it</option>
              <option value="private">private — invisible to other teams</option>
            </select>
          </label>
          <label className="block text-sm font-medium text-slate-700">
            Partitions
            <input name="partitions" type="number" min={1} max={256} defaultValue={3} className={input} />
          </label>
          <label className="col-span-2 block text-sm font-medium text-slate-700">
            Description <span className="font-normal text-slate-500">(markdown)</span>
            <textarea name="description" rows={2} className={input} />
          </label>
        </div>
        <fieldset>
          <legend className="text-sm font-medium text-slate-700">Schema</legend>
          <div className="mt-2 space-y-2">
            {fields.map((f, i) => (
              <div key={i} className="flex items-center gap-2">
                <input aria-label={`Field ${i + 1} name`} required value={f.name} onChange={(e) => setField(i, { name: e.target.value })} placeholder="field_name" className="w-56 rounded-md border border-slate-300 px-2 py-1.5 font-mono text-sm" />
                <select aria-label={`Field ${i + 1} type`} value={f.type} onChange={(e) => setField(i, { type: e.target.value as FieldRow["type"] })} className="rounded-md border border-slate-300 px-2 py-1.5 text-sm">
                  {TYPES.map((t) => <option key={t}>{t}</option>)}
                </select>
                <label className="flex items-center gap-1 text-sm text-slate-600">
                  <input type="checkbox" checked={f.nullable} onChange={(e) => setField(i, { nullable: e.target.checked })} /> nullable
                </label>
                <button type="button" aria-label={`Remove field ${i + 1}`} onClick={() => setFields((fs) => fs.filter((_, j) => j !== i))} disabled={fields.length === 1} className="text-sm text-slate-500 hover:text-red-700 disabled:opacity-30">✕</button>
              </div>
            ))}
          </div>
          <button type="button" onClick={() => setFields((fs) => [...fs, { name: "", type: "string", nullable: false }])} className="mt-2 text-sm font-medium text-brand-700 hover:underline">+ Add field</button>
        </fieldset>
        {error ? <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{error}</p> : null}
        <div className="flex justify-end gap-2">
          <button type="button" onClick={() => setOpen(false)} className="rounded-md border border-slate-300 px-4 py-2 text-sm">Cancel</button>
          <button type="submit" disabled={pending} className="rounded-md bg-brand-600 px-4 py-2 text-sm font-semibold text-white hover:bg-brand-700 disabled:opacity-60">{pending ? "Creating…" : "Create stream"}</button>
        </div>
      </form>
    </div>
  );
}
