"use client";

import { useEffect, useState } from "react";
import type { SluiceNodeData } from "./pipeline-node";
import { palette } from "./palette";

export interface StreamOption {
  name: string;
  access: string;
  fields: string[];
}

const input = "mt-1 block w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm";
const mono = `${input} font-mono`;

type Config = Record<string, unknown>;

/** The selected node's form. Field pickers list the node's input schema as the validator propagates it. */
export function Inspector({
  nodeId,
  data,
  streams,
  inputFields,
  onChange,
  onDelete,
}: {
  nodeId: string;
  data: SluiceNodeData;
  streams: StreamOption[];
  inputFields: string[];
  onChange: (config: Config) => void;
  onDelete: () => void;
}) {
  const c = data.config;
  const set = (patch: Config) => onChange({ ...c, ...patch });
  return (
    <div className="space-y-4 p-4 text-sm" aria-label="Inspector">
      <div className="flex items-center justify-between">
        <h2 className="font-semibold">{palette[data.type].label} <span className="font-mono text-xs font-normal text-slate-500">{nodeId}</span></h2>
        <button onClick={onDelete} className="text-xs text-red-700 hover:underline">Delete node</button>
      </div>
      {data.problems?.length ? (
        <ul className="space-y-1">
          {data.problems.map((p, i) => (
            <li key={i} className={`rounded px-2 py-1 text-xs ${p.severity === "error" ? "bg-red-50 text-red-700" : p.severity === "warning" ? "bg-amber-50 text-amber-800" : "bg-sky-50 text-sky-800"}`}>{p.message}</li>
          ))}
        </ul>
      ) : null}
      {data.type === "source" || data.type === "sink" ? (
        <label className="block font-medium text-slate-700">
          Stream
          <select aria-label="Stream" value={(c.stream as string) ?? ""} onChange={(e) => set({ stream: e.target.value })} className={input}>
            <option value="">Choose a stream…</option>
            {streams
              .filter((s) => (data.type === "sink" ? s.access === "owner" : s.access !== "see"))
              .map((s) => <option key={s.name} value={s.name}>{s.name}</option>)}
          </select>
          <span className="mt-1 block text-xs font-normal text-slate-500">{data.type === "sink" ? "Streams your team owns." : "Streams your team can read."}</span>
        </label>
      ) : null}
      {data.type === "filter" ? (
        <label className="block font-medium text-slate-700">
          Keep records where (CEL)
          <textarea aria-label="Predicate" rows={3} value={(c.predicate as string) ?? ""} onChange={(e) => set({ predicate: e.target.value })} className={mono} spellCheck={false} />
          <FieldHint fields={inputFields} />
        </label>
      ) : null}
      {data.type === "projection" ? <ProjectionForm c={c} set={set} inputFields={inputFields} /> : null}
      {data.type === "split" ? <SplitForm c={c} set={set} inputFields={inputFields} /> : null}
      {data.type === "union" ? (
        <label className="block font-medium text-slate-700">
          Field naming the input (optional)
          <input aria-label="Source field" value={(c.sourceField as string) ?? ""} onChange={(e) => set({ sourceField: e.target.value || undefined })} className={mono} />
        </label>
      ) : null}
      {data.type === "window" || data.type === "udf" ? <JsonConfig c={c} onChange={onChange} hint={data.type === "window" ? 'e.g. {"window":{"kind":"tumbling","size":"1m"},"timeField":"ts","keys":[{"name":"user","expr":"user_id"}],"aggregates":[{"name":"n","fn":"count"}]}' : 'e.g. {"function":{"inline":{"form":"map","source":"(r) => ({ ...r, big: r.amount > 10 })"}}}'} /> : null}
    </div>
  );
}

function FieldHint({ fields }: { fields: string[] }) {
  if (!fields.length) return null;
  return <span className="mt-1 block text-xs font-normal text-slate-500">Fields: <span className="font-mono">{fields.join(", ")}</span></span>;
}

function ProjectionForm({ c, set, inputFields }: { c: Config; set: (p: Config) => void; inputFields: string[] }) {
  const fields = (c.fields as { name: string; from?: string; expr?: string; cast?: string }[]) ?? [];
  const update = (i: number, patch: Record<string, string | undefined>) => set({ fields: fields.map((f, j) => (j === i ? { ...f, ...patch } : f)) });
  return (
    <div className="space-y-2">
      <label className="flex items-center gap-2 text-slate-700">
        <input type="checkbox" checked={c.keepOthers === true} onChange={(e) => set({ keepOthers: e.target.checked })} /> keep the other input fields
      </label>
      {fields.map((f, i) => (
        <div key={i} className="space-y-1 rounded-md border border-slate-200 p-2">
          <input aria-label={`Output field ${i + 1}`} placeholder="name" value={f.name} onChange={(e) => update(i, { name: e.target.value })} className={mono} />
          <input aria-label={`Output field ${i + 1} value`} placeholder="from field, or = CEL expression" value={f.expr !== undefined ? `=${f.expr}` : (f.from ?? "")} onChange={(e) => (e.target.value.startsWith("=") ? update(i, { expr: e.target.value.slice(1), from: undefined }) : update(i, { from: e.target.value, expr: undefined }))} className={mono} />
          <button type="button" onClick={() => set({ fields: fields.filter((_, j) => j !== i) })} className="text-xs text-slate-500 hover:text-red-700">remove</button>
        </div>
      ))}
      <button type="button" onClick={() => set({ fields: [...fields, { name: "", from: "" }] })} className="text-xs font-medium text-brand-700">+ output field</button>
      <FieldHint fields={inputFields} />
    </div>
  );
}

function SplitForm({ c, set, inputFields }: { c: Config; set: (p: Config) => void; inputFields: string[] }) {
  const outputs = (c.outputs as { name: string; condition: string }[]) ?? [];
  const update = (i: number, patch: Record<string, string>) => set({ outputs: outputs.map((o, j) => (j === i ? { ...o, ...patch } : o)) });
  return (
    <div className="space-y-2">
      {outputs.map((o, i) => (
        <div key={i} className="space-y-1 rounded-md border border-slate-200 p-2">
          <input aria-label={`Output ${i + 1} name`} value={o.name} onChange={(e) => update(i, { name: e.target.value })} className={mono} />
          <input aria-label={`Output ${i + 1} condition`} value={o.condition} onChange={(e) => update(i, { condition: e.target.value })} className={mono} />
        </div>
      ))}
      <button type="button" onClick={() => set({ outputs: [...outputs, { name: `out${outputs.length + 1}`, condition: "true" }] })} className="text-xs font-medium text-brand-700">+ output</button>
      <label className="block text-slate-700">Route to <select value={(c.mode as string) ?? "first"} onChange={(e) => set({ mode: e.target.value })} className={input}><option value="first">the first matching output</option><option value="all">every matching output</option></select></label>
      <label className="block text-slate-700">Unmatched records <select value={(c.unmatched as string) ?? "else"} onChange={(e) => set({ unmatched: e.target.value })} className={input}><option value="else">go to the else output</option><option value="drop">are dropped (and counted)</option></select></label>
      <FieldHint fields={inputFields} />
    </div>
  );
}

function JsonConfig({ c, onChange, hint }: { c: Config; onChange: (c: Config) => void; hint: string }) {
  const [text, setText] = useState(JSON.stringify(c, null, 2));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setText(JSON.stringify(c, null, 2)), [c]);
  return (
    <label className="block font-medium text-slate-700">
      Configuration (JSON)
      <textarea
        aria-label="Configuration JSON"
        rows={10}
        value={text}
        spellCheck={false}
        onChange={(e) => {
          setText(e.target.value);
          try {
            onChange(JSON.parse(e.target.value) as Config);
            setError(null);
          } catch {
            setError("not valid JSON yet");
          }
        }}
        className={mono}
      />
      {error ? <span className="text-xs text-red-700">{error}</span> : <span className="block text-xs font-normal text-slate-500">{hint}</span>}
    </label>
  );
}
