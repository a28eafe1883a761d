"use client";

import { AGGREGATE_FUNCTIONS, DURATION_PATTERN } from "@/lib/pipeline/nodes/window";
import { CelEditor } from "../cel-editor";
import { addButton, FieldDiagnostics, FieldPicker, FormField, inputClass, monoClass, removeAt, removeButton, replaceAt, type FormProps } from "./common";

const UNITS = ["ms", "s", "m", "h", "d"] as const;
const UNIT_LABEL: Record<(typeof UNITS)[number], string> = { ms: "milliseconds", s: "seconds", m: "minutes", h: "hours", d: "days" };

type WindowSpec = { kind: "tumbling"; size: string } | { kind: "hopping"; size: string; slide: string } | { kind: "session"; gap: string };
interface Aggregate {
  name: string;
  fn: string;
  field?: string;
  k?: number;
}
interface Key {
  name: string;
  expr: string;
}

/** A duration as a whole number and one unit, stored as the config's text form ("30s"). */
export function DurationInput({ label, value, onChange, path, hint }: { label: string; value: string; onChange: (v: string) => void; path: string; hint?: string }) {
  const m = DURATION_PATTERN.exec(value);
  const amount = m ? m[1] : value.replace(/\D+/g, "");
  const unit = (m ? m[2] : "s") as (typeof UNITS)[number];
  return (
    <FormField label={label} path={path} hint={hint}>
      {({ id, describedBy }) => (
        <div className="flex gap-1">
          <input id={id} aria-describedby={describedBy} type="number" min={0} step={1} inputMode="numeric" value={amount} onChange={(e) => onChange(`${e.target.value}${unit}`)} className={`${monoClass} w-24`} />
          <select aria-label={`${label} unit`} value={unit} onChange={(e) => onChange(`${amount || "0"}${e.target.value}`)} className={inputClass}>
            {UNITS.map((u) => <option key={u} value={u}>{UNIT_LABEL[u]}</option>)}
          </select>
        </div>
      )}
    </FormField>
  );
}

/** Window: tumbling/hopping/session windows over event time (or processing time), keys, aggregates, lateness and emit policy. */
export function WindowForm({ config, set, input, inputKnown = true }: FormProps) {
  const win = (config.window as WindowSpec | undefined) ?? { kind: "tumbling", size: "1m" };
  const keys = (config.keys as Key[] | undefined) ?? [];
  const aggregates = (config.aggregates as Aggregate[] | undefined) ?? [];
  const emit = config.emit as "on_close" | { early: string } | undefined;
  const setKind = (kind: WindowSpec["kind"]) => {
    const size = "size" in win ? win.size : "gap" in win ? win.gap : "1m";
    set({ window: kind === "tumbling" ? { kind, size } : kind === "hopping" ? { kind, size, slide: "slide" in win ? win.slide : size } : { kind, gap: size } });
  };
  return (
    <div className="space-y-3">
      <FormField label="Window type" path="config.window.kind" hint={win.kind === "tumbling" ? "Back-to-back windows of one size, aligned to the epoch." : win.kind === "hopping" ? "Windows of one size starting every slide; they overlap when the slide is shorter." : "Per key, a window closes after a gap without records."}>
        {({ id, describedBy }) => (
          <select id={id} aria-describedby={describedBy} value={win.kind} onChange={(e) => setKind(e.target.value as WindowSpec["kind"])} className={inputClass}>
            <option value="tumbling">tumbling</option>
            <option value="hopping">hopping</option>
            <option value="session">session</option>
          </select>
        )}
      </FormField>
      {win.kind === "tumbling" || win.kind === "hopping" ? <DurationInput label="Size" path="config.window.size" value={win.size} onChange={(size) => set({ window: { ...win, size } })} /> : null}
      {win.kind === "hopping" ? <DurationInput label="Slide" path="config.window.slide" value={win.slide} onChange={(slide) => set({ window: { ...win, slide } })} /> : null}
      {win.kind === "session" ? <DurationInput label="Gap" path="config.window.gap" value={win.gap} onChange={(gap) => set({ window: { ...win, gap } })} /> : null}
      <FieldDiagnostics path="config.window" />

      <FormField label="Event time field" path="config.timeField" hint="A timestamp or epoch-milliseconds field. Without one, windows use the time the worker sees each record.">
        {({ id, describedBy }) => (
          <FieldPicker id={id} label="Event time field" describedBy={describedBy} value={config.timeField as string | undefined} input={input} optional="processing time (no event time field)" filter={(t) => t === "timestamp" || t === "int"} onChange={(timeField) => set({ timeField })} />
        )}
      </FormField>
      <DurationInput label="Out-of-orderness" path="config.maxOutOfOrderness" value={(config.maxOutOfOrderness as string) ?? "0s"} onChange={(maxOutOfOrderness) => set({ maxOutOfOrderness })} hint="How far behind the newest event a record may arrive and still be on time." />
      <DurationInput label="Allowed lateness" path="config.allowedLateness" value={(config.allowedLateness as string) ?? "0s"} onChange={(allowedLateness) => set({ allowedLateness })} hint="Late records within this update the window's result; later ones go to the late output." />

      <fieldset className="space-y-2">
        <legend className="text-sm font-medium text-slate-700">Group by keys</legend>
        {keys.map((k, i) => (
          <div key={i} className="space-y-2 rounded-md border border-slate-200 p-2" data-testid={`window-key-${i}`}>
            <FormField label={`Key ${i + 1} expression`} path={`config.keys[${i}].expr`}>
              {({ id, describedBy }) => <CelEditor id={id} label={`Key ${i + 1} expression`} describedBy={describedBy} value={k.expr} onChange={(expr) => set({ keys: replaceAt(keys, i, { ...k, expr }) })} fields={inputKnown ? input : null} />}
            </FormField>
            <FormField label={`Key ${i + 1} output name`} path={`config.keys[${i}].name`}>
              {({ id, describedBy }) => <input id={id} aria-describedby={describedBy} value={k.name} onChange={(e) => set({ keys: replaceAt(keys, i, { ...k, name: e.target.value }) })} className={monoClass} />}
            </FormField>
            <button type="button" aria-label={`Remove key ${i + 1}`} onClick={() => set({ keys: removeAt(keys, i) })} className={removeButton}>remove</button>
          </div>
        ))}
        <FieldDiagnostics path="config.keys" />
        <div className="flex flex-wrap items-center gap-2">
          <button type="button" onClick={() => set({ keys: [...keys, { name: "", expr: "" }] })} className={addButton}>+ key</button>
          {input.length ? (
            <select aria-label="Add a key field" value="" onChange={(e) => e.target.value && set({ keys: [...keys, { name: e.target.value.split(".").pop()!, expr: e.target.value }] })} className="rounded-md border border-slate-300 px-1 py-0.5 text-xs focus-visible:ring-2 focus-visible:ring-brand-600">
              <option value="">+ key from a field…</option>
              {input.map((f) => <option key={f.name} value={f.name}>{f.name}</option>)}
            </select>
          ) : null}
        </div>
      </fieldset>

      <fieldset className="space-y-2">
        <legend className="text-sm font-medium text-slate-700">Aggregates</legend>
        {aggregates.map((a, i) => {
          const n = i + 1;
          const setAgg = (patch: Partial<Aggregate>) => set({ aggregates: replaceAt(aggregates, i, { ...a, ...patch }) });
          return (
            <div key={i} className="space-y-2 rounded-md border border-slate-200 p-2" data-testid={`window-aggregate-${i}`}>
              <FormField label={`Aggregate ${n} function`} path={`config.aggregates[${i}].fn`}>
                {({ id, describedBy }) => (
                  <select id={id} aria-describedby={describedBy} value={a.fn} onChange={(e) => setAgg({ fn: e.target.value, k: e.target.value === "top_k" ? (a.k ?? 3) : undefined })} className={inputClass}>
                    {AGGREGATE_FUNCTIONS.map((f) => <option key={f} value={f}>{f}</option>)}
                  </select>
                )}
              </FormField>
              <FormField label={`Aggregate ${n} field`} path={`config.aggregates[${i}].field`} hint={a.fn === "count" ? "Without a field, count counts records; with one, its non-null values." : undefined}>
                {({ id, describedBy }) => <FieldPicker id={id} label={`Aggregate ${n} field`} describedBy={describedBy} value={a.field} input={input} optional={a.fn === "count" ? "every record" : "Choose a field…"} onChange={(field) => setAgg({ field })} />}
              </FormField>
              {a.fn === "top_k" ? (
                <FormField label={`Aggregate ${n} k`} path={`config.aggregates[${i}].k`}>
                  {({ id, describedBy }) => <input id={id} aria-describedby={describedBy} type="number" min={1} value={a.k ?? 3} onChange={(e) => setAgg({ k: Number(e.target.value) })} className={monoClass} />}
                </FormField>
              ) : null}
              <FormField label={`Aggregate ${n} output name`} path={`config.aggregates[${i}].name`}>
                {({ id, describedBy }) => <input id={id} aria-describedby={describedBy} value={a.name} onChange={(e) => setAgg({ name: e.target.value })} className={monoClass} />}
              </FormField>
              <FieldDiagnostics path={`config.aggregates[${i}]`} />
              <button type="button" aria-label={`Remove aggregate ${n}`} onClick={() => set({ aggregates: removeAt(aggregates, i) })} className={removeButton}>remove</button>
            </div>
          );
        })}
        <FieldDiagnostics path="config.aggregates" />
        <button type="button" onClick={() => set({ aggregates: [...aggregates, { name: `agg${aggregates.length + 1}`, fn: "count" }] })} className={addButton}>+ aggregate</button>
      </fieldset>

      <FormField label="Emit results" path="config.emit">
        {({ id, describedBy }) => (
          <select id={id} aria-describedby={describedBy} value={typeof emit === "object" ? "early" : "on_close"} onChange={(e) => set({ emit: e.target.value === "early" ? { early: "10s" } : "on_close" })} className={inputClass}>
            <option value="on_close">once, when the window closes</option>
            <option value="early">early partial results, then final</option>
          </select>
        )}
      </FormField>
      {typeof emit === "object" ? <DurationInput label="Early results every" path="config.emit.early" value={emit.early} onChange={(early) => set({ emit: { early } })} /> : null}
    </div>
  );
}
