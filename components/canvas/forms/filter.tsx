"use client";

import { CelEditor } from "../cel-editor";
import { FormField, type FormProps } from "./common";

/** Filter: one CEL predicate over the input record. */
export function FilterForm({ config, set, input, inputKnown = true }: FormProps) {
  return (
    <FormField label="Keep records where (CEL)" path="config.predicate" hint="A CEL expression that is true for the records to keep, e.g. amount > 10.0 && country in [&quot;DE&quot;, &quot;FR&quot;]. Ctrl-Space lists fields and functions.">
      {({ id, describedBy }) => (
        <CelEditor id={id} label="Predicate" describedBy={describedBy} value={(config.predicate as string) ?? ""} onChange={(predicate) => set({ predicate })} fields={inputKnown ? input : null} expected="bool" />
      )}
    </FormField>
  );
}
