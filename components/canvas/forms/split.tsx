"use client";

import { CelEditor } from "../cel-editor";
import { addButton, FieldDiagnostics, FormField, inputClass, monoClass, removeAt, removeButton, replaceAt, type FormProps } from "./common";

interface SplitOutput {
  name: string;
  condition: string;
}

/** Split: named outputs, each with a CEL condition; first-match or every-match routing; an else output or drop. */
export function SplitForm({ config, set, input, inputKnown = true }: FormProps) {
  const outputs = (config.outputs as SplitOutput[] | undefined) ?? [];
  const update = (i: number, patch: Partial<SplitOutput>) => set({ outputs: replaceAt(outputs, i, { ...outputs[i], ...patch }) });
  const freshName = () => {
    for (let k = outputs.length + 1; ; k++) if (!outputs.some((o) => o.name === `out${k}`)) return `out${k}`;
  };
  return (
    <div className="space-y-3">
      <fieldset className="space-y-2">
        <legend className="text-sm font-medium text-slate-700">Outputs</legend>
        {outputs.map((o, i) => (
          <div key={i} className="space-y-2 rounded-md border border-slate-200 p-2" data-testid={`split-output-${i}`}>
            <FormField label={`Output ${i + 1} name`} path={`config.outputs[${i}].name`}>
              {({ id, describedBy }) => <input id={id} aria-describedby={describedBy} value={o.name} onChange={(e) => update(i, { name: e.target.value })} className={monoClass} />}
            </FormField>
            <FormField label={`Output ${i + 1} condition`} path={`config.outputs[${i}].condition`}>
              {({ id, describedBy }) => <CelEditor id={id} label={`Output ${i + 1} condition`} describedBy={describedBy} value={o.condition} onChange={(condition) => update(i, { condition })} fields={inputKnown ? input : null} expected="bool" />}
            </FormField>
            <button type="button" aria-label={`Remove output ${i + 1}`} disabled={outputs.length === 1} onClick={() => set({ outputs: removeAt(outputs, i) })} className={`${removeButton} disabled:opacity-40`}>
              remove
            </button>
          </div>
        ))}
        <FieldDiagnostics path="config.outputs" />
        <button type="button" onClick={() => set({ outputs: [...outputs, { name: freshName(), condition: "true" }] })} className={addButton}>
          + output
        </button>
      </fieldset>
      <FormField label="Route each record to" path="config.mode">
        {({ id, describedBy }) => (
          <select id={id} aria-describedby={describedBy} value={(config.mode as string) ?? "first"} onChange={(e) => set({ mode: e.target.value })} className={inputClass}>
            <option value="first">the first matching output</option>
            <option value="all">every matching output</option>
          </select>
        )}
      </FormField>
      <FormField label="Unmatched records" path="config.unmatched" hint="The else output is a port on the node: connect it to keep what no condition matched.">
        {({ id, describedBy }) => (
          <select id={id} aria-describedby={describedBy} value={(config.unmatched as string) ?? "drop"} onChange={(e) => set({ unmatched: e.target.value })} className={inputClass}>
            <option value="else">go to the else output</option>
            <option value="drop">are dropped (and counted)</option>
          </select>
        )}
      </FormField>
    </div>
  );
}
