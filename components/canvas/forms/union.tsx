"use client";

import { FormField, monoClass, type FormProps } from "./common";

/** Union: the only setting is an optional output field naming the input each record came from. */
export function UnionForm({ config, set }: FormProps) {
  return (
    <FormField label="Field naming the input (optional)" path="config.sourceField" hint="Each output record gets this field set to the input it arrived on. Leave empty to merge without it.">
      {({ id, describedBy }) => (
        <input id={id} aria-label="Source field" aria-describedby={describedBy} placeholder="e.g. source" value={(config.sourceField as string) ?? ""} onChange={(e) => set({ sourceField: e.target.value === "" ? undefined : e.target.value })} className={monoClass} />
      )}
    </FormField>
  );
}
