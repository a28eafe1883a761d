"use client";

import { CelEditor } from "../cel-editor";
import { addButton, FieldDiagnostics, FieldPicker, FormField, inputClass, monoClass, removeAt, removeButton, replaceAt, type FormProps } from "./common";

const CASTS = ["string", "int", "float", "bool", "timestamp", "json"] as const;

interface OutputField {
  name: string;
  from?: string;
  expr?: string;
  cast?: string;
}
interface FlattenRule {
  field: string;
  separator?: string;
}

/** The output name a copied path gets by default: its last segment (user.geo.country → country). */
const lastSegment = (path: string) => path.split(".").pop() ?? path;

/** Projection: output fields copied (and renamed) or computed, optional casts; pass the rest through, drop some, flatten structs. */
export function ProjectionForm({ config, set, input, inputKnown = true }: FormProps) {
  const fields = (config.fields as OutputField[] | undefined) ?? [];
  const drop = (config.drop as string[] | undefined) ?? [];
  const flatten = (config.flatten as FlattenRule[] | undefined) ?? [];
  const keepOthers = config.keepOthers === true;
  const update = (i: number, next: OutputField) => set({ fields: replaceAt(fields, i, next) });
  const structOutputs = [
    ...fields.filter((f) => f.from !== undefined).map((f) => ({ name: f.name, type: input.find((x) => x.name === f.from)?.type })),
    ...(keepOthers ? input.filter((f) => !drop.includes(f.name)).map((f) => ({ name: f.name, type: f.type })) : []),
  ].filter((f) => typeof f.type === "object" && "struct" in f.type);

  return (
    <div className="space-y-3">
      <fieldset className="space-y-2">
        <legend className="text-sm font-medium text-slate-700">Output fields</legend>
        {fields.map((f, i) => {
          const computed = f.expr !== undefined;
          const n = i + 1;
          return (
            <div key={i} className="space-y-2 rounded-md border border-slate-200 p-2" data-testid={`projection-field-${i}`}>
              <div className="flex items-center gap-3 text-xs text-slate-700" role="radiogroup" aria-label={`Field ${n} value`}>
                <label className="flex items-center gap-1">
                  <input type="radio" name={`proj-kind-${i}`} checked={!computed} onChange={() => update(i, { name: f.name, from: "", cast: f.cast })} /> copy a field
                </label>
                <label className="flex items-center gap-1">
                  <input type="radio" name={`proj-kind-${i}`} checked={computed} onChange={() => update(i, { name: f.name, expr: f.from ?? "", cast: f.cast })} /> compute (CEL)
                </label>
              </div>
              {computed ? (
                <FormField label={`Field ${n} expression`} path={`config.fields[${i}].expr`}>
                  {({ id, describedBy }) => <CelEditor id={id} label={`Field ${n} expression`} describedBy={describedBy} value={f.expr ?? ""} onChange={(expr) => update(i, { ...f, expr })} fields={inputKnown ? input : null} />}
                </FormField>
              ) : (
                <FormField label={`Field ${n} copied from`} path={`config.fields[${i}].from`}>
                  {({ id, describedBy }) => (
                    <FieldPicker
                      id={id}
                      label={`Field ${n} copied from`}
                      describedBy={describedBy}
                      value={f.from}
                      input={input}
                      onChange={(from) => update(i, { ...f, from: from ?? "", name: f.name === "" || f.name === lastSegment(f.from ?? "") ? lastSegment(from ?? "") : f.name })}
                    />
                  )}
                </FormField>
              )}
              <FormField label={`Field ${n} output name`} path={`config.fields[${i}].name`} hint={!computed && f.from && f.name && f.name !== lastSegment(f.from) ? `renames ${f.from}` : undefined}>
                {({ id, describedBy }) => <input id={id} aria-describedby={describedBy} value={f.name} onChange={(e) => update(i, { ...f, name: e.target.value })} className={monoClass} />}
              </FormField>
              <FormField label={`Field ${n} cast`} path={`config.fields[${i}].cast`}>
                {({ id, describedBy }) => (
                  <select id={id} aria-describedby={describedBy} value={f.cast ?? ""} onChange={(e) => update(i, { ...f, cast: e.target.value || undefined })} className={inputClass}>
                    <option value="">keep the type</option>
                    {CASTS.map((c) => <option key={c} value={c}>cast to {c}</option>)}
                  </select>
                )}
              </FormField>
              <FieldDiagnostics path={`config.fields[${i}]`} />
              <button type="button" aria-label={`Remove field ${n}`} onClick={() => set({ fields: removeAt(fields, i) })} className={removeButton}>remove</button>
            </div>
          );
        })}
        <FieldDiagnostics path="config.fields" />
        <div className="flex flex-wrap gap-2">
          <button type="button" onClick={() => set({ fields: [...fields, { name: "", from: "" }] })} className={addButton}>+ copy field</button>
          <button type="button" onClick={() => set({ fields: [...fields, { name: "", expr: "" }] })} className={addButton}>+ computed field</button>
          {input.length ? (
            <button type="button" onClick={() => set({ fields: [...fields, ...input.filter((x) => !fields.some((f) => f.name === x.name)).map((x) => ({ name: x.name, from: x.name }))] })} className={addButton}>
              + all input fields
            </button>
          ) : null}
        </div>
      </fieldset>

      <label className="flex items-center gap-2 text-sm text-slate-700">
        <input type="checkbox" checked={keepOthers} onChange={(e) => set({ keepOthers: e.target.checked })} className="focus-visible:ring-2 focus-visible:ring-brand-600" />
        Keep the other input fields
      </label>
      <FieldDiagnostics path="config.keepOthers" />

      {keepOthers ? (
        <fieldset className="space-y-1">
          <legend className="text-sm font-medium text-slate-700">Drop input fields</legend>
          {input.length === 0 ? <p className="text-xs text-slate-500">Connect an input to choose fields to drop.</p> : null}
          <div className="flex flex-wrap gap-x-3 gap-y-1">
            {[...new Set([...input.map((x) => x.name), ...drop])].map((name) => (
              <label key={name} className="flex items-center gap-1 font-mono text-xs text-slate-700">
                <input type="checkbox" checked={drop.includes(name)} onChange={(e) => set({ drop: e.target.checked ? [...drop, name] : drop.filter((d) => d !== name) })} />
                {name}
              </label>
            ))}
          </div>
          <FieldDiagnostics path="config.drop" prefix />
        </fieldset>
      ) : null}

      <fieldset className="space-y-2">
        <legend className="text-sm font-medium text-slate-700">Flatten struct fields</legend>
        {flatten.map((r, i) => (
          <div key={i} className="flex items-end gap-2">
            <div className="min-w-0 flex-1">
              <FormField label={`Flatten ${i + 1} field`} path={`config.flatten[${i}].field`}>
                {({ id, describedBy }) => (
                  <select id={id} aria-describedby={describedBy} value={r.field} onChange={(e) => set({ flatten: replaceAt(flatten, i, { ...r, field: e.target.value }) })} className={monoClass}>
                    <option value="">Choose a struct field…</option>
                    {[...new Set([...structOutputs.map((s) => s.name), ...(r.field ? [r.field] : [])])].map((name) => <option key={name} value={name}>{name}</option>)}
                  </select>
                )}
              </FormField>
            </div>
            <div className="w-20">
              <FormField label="Separator" path={`config.flatten[${i}].separator`}>
                {({ id, describedBy }) => <input id={id} aria-describedby={describedBy} value={r.separator ?? "_"} onChange={(e) => set({ flatten: replaceAt(flatten, i, { ...r, separator: e.target.value }) })} className={monoClass} />}
              </FormField>
            </div>
            <button type="button" aria-label={`Remove flatten ${i + 1}`} onClick={() => set({ flatten: removeAt(flatten, i) })} className={`${removeButton} mb-2`}>remove</button>
          </div>
        ))}
        <button type="button" onClick={() => set({ flatten: [...flatten, { field: structOutputs[0]?.name ?? "", separator: "_" }] })} className={addButton}>+ flatten a struct</button>
        {structOutputs.length === 0 ? <p className="text-xs text-slate-500">user.id becomes user_id; only struct fields in the output can be flattened.</p> : null}
      </fieldset>
    </div>
  );
}
