"use client";

import { useId, useMemo, useState, useSyncExternalStore } from "react";
import { apiFetch } from "@/components/ui/api";
import { useAction } from "@/components/ui/use-action";
import type { Field } from "@/lib/pipeline/schema";
import { FieldDiagnostics, formatType, inputClass, monoClass, smallButton } from "./common";

/** A warehouse stream as the canvas lists it (the page passes what the team can see). */
export interface StreamOption {
  name: string;
  /** owner | read | see: what this team may do with it. */
  access: string;
  /** Top-level field names (older callers pass only these). */
  fields: string[];
  layer?: string;
  owner?: string;
  schema?: Field[];
}

const LAYERS = ["ODS", "DWD", "DWS", "ADS"] as const;

// Streams created inline from a Sink are added here, so every picker on the page
// lists them at once without reloading the page (which would drop unsaved edits).
let created: StreamOption[] = [];
const listeners = new Set<() => void>();
const createdStore = {
  subscribe: (l: () => void) => (listeners.add(l), () => void listeners.delete(l)),
  get: () => created,
  add(s: StreamOption) {
    created = [...created.filter((c) => c.name !== s.name), s];
    for (const l of listeners) l();
  },
};

/**
 * Source/Sink stream picker: search by name, layer, owner or field; shows the
 * chosen stream's layer, owner and schema. A Sink lists only streams the team
 * owns and can create a new one from its input schema in place.
 */
export function StreamPicker({ kind, team, value, onChange, streams, input }: { kind: "source" | "sink"; team: string; value: string; onChange: (stream: string) => void; streams: StreamOption[]; input: Field[] }) {
  const extra = useSyncExternalStore(createdStore.subscribe, createdStore.get, createdStore.get);
  const [query, setQuery] = useState("");
  const [creating, setCreating] = useState(false);
  const searchId = useId();
  const selectId = useId();
  const all = useMemo(() => {
    const byName = new Map(streams.map((s) => [s.name, s]));
    for (const s of extra) if (!byName.has(s.name)) byName.set(s.name, s);
    return [...byName.values()].filter((s) => (kind === "sink" ? s.access === "owner" : s.access !== "see"));
  }, [streams, extra, kind]);
  const q = query.trim().toLowerCase();
  const shown = q
    ? all.filter((s) => s.name.toLowerCase().includes(q) || s.layer?.toLowerCase() === q || s.owner?.toLowerCase().includes(q) || (s.schema?.map((f) => f.name) ?? s.fields).some((f) => f.toLowerCase().includes(q)))
    : all;
  const chosen = all.find((s) => s.name === value);
  // Keep the current choice selectable even when the search hides it.
  const options = chosen && !shown.includes(chosen) ? [chosen, ...shown] : shown;

  return (
    <div className="space-y-2">
      <div>
        <label htmlFor={searchId} className="block text-sm font-medium text-slate-700">Search by name, layer, owner or field</label>
        <input id={searchId} type="search" placeholder="e.g. dwd, clicks, user_id" value={query} onChange={(e) => setQuery(e.target.value)} className={inputClass} />
      </div>
      <div>
        <label htmlFor={selectId} className="block text-sm font-medium text-slate-700">Stream</label>
        <select id={selectId} aria-label="Stream" aria-describedby={`${selectId}-d`} value={value} onChange={(e) => onChange(e.target.value)} className={monoClass}>
          <option value="">{options.length ? "Choose a stream…" : q ? "No stream matches the search" : "No streams yet"}</option>
          {options.map((s) => (
            <option key={s.name} value={s.name}>
              {s.name}
              {s.layer ? ` · ${s.layer}` : ""}
              {s.owner ? ` · ${s.owner}` : ""}
            </option>
          ))}
          {value && !chosen ? <option value={value}>{value} · not visible to this team</option> : null}
        </select>
        <div id={`${selectId}-d`}>
          <p className="mt-1 text-xs text-slate-500">{kind === "sink" ? "Streams your team owns." : "Streams your team can read."} {options.length} of {all.length} shown.</p>
          <FieldDiagnostics path="config.stream" />
        </div>
      </div>
      {chosen ? <StreamSummary stream={chosen} /> : null}
      {kind === "sink" ? (
        creating ? (
          <CreateSinkStream team={team} input={input} onCancel={() => setCreating(false)} onCreated={(s) => { createdStore.add(s); onChange(s.name); setCreating(false); }} />
        ) : (
          <button type="button" onClick={() => setCreating(true)} className={`${smallButton} text-brand-700 hover:underline`}>+ Create a new stream for this sink</button>
        )
      ) : null}
    </div>
  );
}

function StreamSummary({ stream }: { stream: StreamOption }) {
  const fields: { name: string; type?: string }[] = stream.schema ? stream.schema.map((f) => ({ name: f.name, type: formatType(f.type) })) : stream.fields.map((name) => ({ name }));
  return (
    <div className="rounded-md bg-slate-50 p-2 text-xs text-slate-700" data-testid="stream-summary">
      <p>
        {stream.layer ? <span className="mr-2 rounded bg-slate-200 px-1 font-semibold">{stream.layer}</span> : null}
        {stream.owner ? <>owned by <span className="font-medium">{stream.owner}</span></> : null}
        {stream.access !== "owner" && stream.access ? <span className="ml-1 text-slate-500">({stream.access} access)</span> : null}
      </p>
      {fields.length ? (
        <ul className="mt-1 font-mono" aria-label="Schema fields">
          {fields.map((f) => <li key={f.name}>{f.name}{f.type ? <span className="text-slate-500"> · {f.type}</span> : null}</li>)}
        </ul>
      ) : <p className="mt-1 text-slate-500">No schema yet.</p>}
    </div>
  );
}

/** Creates a stream owned by the team whose schema is the sink's input schema. */
function CreateSinkStream({ team, input, onCreated, onCancel }: { team: string; input: Field[]; onCreated: (s: StreamOption) => void; onCancel: () => void }) {
  const [name, setName] = useState("");
  const [layer, setLayer] = useState<(typeof LAYERS)[number]>("DWD");
  const [visibility, setVisibility] = useState("team");
  const { busy, error, run } = useAction();
  const ids = { name: useId(), layer: useId(), vis: useId(), err: useId() };
  const create = () =>
    run(async () => {
      const s = await apiFetch<{ name: string; layer: string; ownerTeam: { slug: string }; schema?: Field[]; access: string }>(`/api/v1/teams/${team}/streams`, {
        body: { name, layer, visibility, schema: input, description: "Written by a pipeline sink." },
      });
      onCreated({ name: s.name, access: s.access, layer: s.layer, owner: s.ownerTeam.slug, schema: s.schema ?? input, fields: (s.schema ?? input).map((f) => f.name) });
    });
  return (
    <fieldset className="space-y-2 rounded-md border border-slate-200 p-2">
      <legend className="px-1 text-sm font-medium text-slate-700">New stream</legend>
      <div>
        <label htmlFor={ids.name} className="block text-xs font-medium text-slate-700">New stream name</label>
        <input id={ids.name} aria-describedby={ids.err} placeholder={`${layer.toLowerCase()}.my-team.events`} value={name} onChange={(e) => setName(e.target.value)} className={monoClass} />
      </div>
      <div className="flex gap-2">
        <div className="flex-1">
          <label htmlFor={ids.layer} className="block text-xs font-medium text-slate-700">Layer</label>
          <select id={ids.layer} value={layer} onChange={(e) => setLayer(e.target.value as (typeof LAYERS)[number])} className={inputClass}>
            {LAYERS.map((l) => <option key={l} value={l}>{l}</option>)}
          </select>
        </div>
        <div className="flex-1">
          <label htmlFor={ids.vis} className="block text-xs font-medium text-slate-700">Visibility</label>
          <select id={ids.vis} value={visibility} onChange={(e) => setVisibility(e.target.value)} className={inputClass}>
            <option value="private">private</option>
            <option value="team">team</option>
            <option value="public">public</option>
          </select>
        </div>
      </div>
      <p className="text-xs text-slate-500">
        {input.length ? <>Schema: the sink&apos;s input, <span className="font-mono">{input.map((f) => f.name).join(", ")}</span>.</> : "Connect the sink's input first: the new stream takes its schema."}
      </p>
      <div id={ids.err}>{error ? <p role="alert" className="text-xs text-red-700">{error}</p> : null}</div>
      <div className="flex gap-2">
        <button type="button" disabled={busy || !name || !input.length} onClick={create} className="rounded-md bg-brand-600 px-2 py-1 text-xs font-semibold text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-600 focus-visible:ring-offset-1 disabled:opacity-40">
          {busy ? "Creating…" : "Create stream"}
        </button>
        <button type="button" onClick={onCancel} className={`${smallButton} text-slate-600`}>Cancel</button>
      </div>
    </fieldset>
  );
}
