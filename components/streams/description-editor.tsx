"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { apiFetch } from "@/components/ui/api";
import { useAction } from "@/components/ui/use-action";
import { Markdown } from "./markdown";

const MAX = 20_000;

/**
 * The stream's description, rendered as markdown; the owner team's editors get
 * an Edit button that opens a Write / Preview editor (the preview uses the same
 * renderer as the page, so what they see is what other teams will see).
 */
export function StreamDescription({ team, stream, description, canEdit }: { team: string; stream: string; description: string; canEdit: boolean }) {
  const router = useRouter();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(description);
  const [tab, setTab] = useState<"write" | "preview">("write");
  const { busy: saving, error, run } = useAction();

  if (!editing) {
    return (
      <div className="mt-3">
        {description ? <Markdown>{description}</Markdown> : canEdit ? <p className="text-sm text-slate-500">No description yet: say what one record means, where the data comes from and who to ask.</p> : null}
        {canEdit ? (
          <button type="button" onClick={() => { setDraft(description); setTab("write"); setEditing(true); }} className="mt-2 rounded-md border border-slate-300 px-3 py-1 text-xs font-medium text-slate-700 hover:bg-slate-50">
            {description ? "Edit description" : "Add description"}
          </button>
        ) : null}
      </div>
    );
  }

  const save = () =>
    run(async () => {
      await apiFetch(`/api/v1/teams/${team}/streams/${encodeURIComponent(stream)}`, { method: "PATCH", body: { description: draft } });
      setEditing(false);
      router.refresh();
    });

  const tabClass = (t: typeof tab) => `rounded-t-md px-3 py-1.5 text-xs font-medium ${tab === t ? "border border-b-white border-slate-200 bg-white text-slate-900" : "text-slate-500 hover:text-slate-700"}`;
  return (
    <div className="mt-3 max-w-3xl" role="group" aria-label="Edit description">
      <div className="flex gap-1 border-b border-slate-200" role="tablist">
        <button type="button" role="tab" aria-selected={tab === "write"} className={tabClass("write")} onClick={() => setTab("write")}>Write</button>
        <button type="button" role="tab" aria-selected={tab === "preview"} className={tabClass("preview")} onClick={() => setTab("preview")}>Preview</button>
      </div>
      {tab === "write" ? (
        <label className="block">
          <span className="sr-only">Description (markdown)</span>
          <textarea value={draft} onChange={(e) => setDraft(e.target.value)} rows={8} maxLength={MAX} className="mt-2 block w-full rounded-md border border-slate-300 px-3 py-2 font-mono text-xs" placeholder={"What one record means, where it comes from, who to ask.\n\nMarkdown: **bold**, [links](https://…), lists, tables."} />
        </label>
      ) : (
        <div className="mt-2 min-h-24 rounded-md border border-slate-200 p-3" data-testid="description-preview">
          {draft.trim() ? <Markdown>{draft}</Markdown> : <p className="text-sm text-slate-400">Nothing to preview.</p>}
        </div>
      )}
      <p className="mt-1 text-xs text-slate-500">Markdown with tables and task lists; HTML is not rendered. {draft.length.toLocaleString("en-US")}/{MAX.toLocaleString("en-US")}</p>
      {error ? <p role="alert" className="mt-1 text-sm text-red-700">{error}</p> : null}
      <div className="mt-2 flex gap-2">
        <button type="button" disabled={saving} onClick={save} className="rounded-md bg-brand-600 px-3 py-1.5 text-xs font-semibold text-white hover:bg-brand-700 disabled:opacity-50">{saving ? "Saving…" : "Save description"}</button>
        <button type="button" disabled={saving} onClick={() => setEditing(false)} className="rounded-md border border-slate-300 px-3 py-1.5 text-xs">Cancel</button>
      </div>
    </div>
  );
}
