import type { Field, FieldType, StreamSchema } from "./schema";
import { fieldTypesEqual, formatFieldType, isListType, isStructType } from "./schema";

export type Compatibility = "BACKWARD" | "FORWARD" | "FULL" | "NONE";

/**
 * Schema evolution rules for a stream's next schema version (Avro/Schema
 * Registry semantics, on Sluice's field lists):
 * - BACKWARD: consumers using the new schema can read records written with the
 *   old one — a new field must be nullable, a field's type may only widen
 *   (int → float), fields may be removed.
 * - FORWARD: consumers on the old schema can read records written with the new
 *   one — a removed field must have been nullable, types may not change.
 * - FULL: both. NONE: anything goes.
 * Returns the incompatibilities, each naming the field; empty means compatible.
 */
export function checkCompatibility(previous: StreamSchema, next: StreamSchema, mode: Compatibility): string[] {
  if (mode === "NONE") return [];
  const problems: string[] = [];
  if (mode === "BACKWARD" || mode === "FULL") readableBy(previous, next, "", problems, "BACKWARD");
  if (mode === "FORWARD" || mode === "FULL") readableBy(next, previous, "", problems, "FORWARD");
  return [...new Set(problems)];
}

/** Can a reader with schema `reader` read records written with schema `writer`? */
function readableBy(writer: Field[], reader: Field[], prefix: string, out: string[], rule: string) {
  const written = new Map(writer.map((f) => [f.name, f]));
  for (const r of reader) {
    const path = prefix + r.name;
    const w = written.get(r.name);
    if (!w) {
      if (!r.nullable) out.push(rule === "BACKWARD" ? `field "${path}" is new and required: make it nullable so records written before it existed still read` : `field "${path}" is removed but was required: consumers on the old schema still need it`);
      continue;
    }
    if (w.nullable && !r.nullable) out.push(`field "${path}" becomes required, but records may hold null`);
    typeReadable(w.type, r.type, path, out, rule);
  }
}

function typeReadable(w: FieldType, r: FieldType, path: string, out: string[], rule: string) {
  if (isStructType(w) && isStructType(r)) return readableBy(w.struct, r.struct, `${path}.`, out, rule);
  if (isListType(w) && isListType(r)) return typeReadable(w.list, r.list, `${path}[]`, out, rule);
  if (fieldTypesEqual(w, r)) return;
  // The one widening JSON numbers allow: an int written can be read as a float.
  if (w === "int" && r === "float") return;
  if (r === "json") return;
  out.push(`field "${path}" changes type from ${formatFieldType(w)} to ${formatFieldType(r)}`);
}
