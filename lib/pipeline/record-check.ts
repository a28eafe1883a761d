import type { Field, FieldType, StreamSchema } from "./schema";
import { formatFieldType, isListType } from "./schema";

/**
 * Checks one decoded JSON record against a stream schema. Returns the problems
 * (empty when it conforms). Fields not in the schema are allowed: producers may
 * be ahead of the registered schema, and consumers read only what they know.
 */
export function checkRecord(schema: StreamSchema, value: unknown): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return ["a record must be a JSON object"];
  const problems: string[] = [];
  checkFields(schema, value as Record<string, unknown>, "", problems);
  return problems;
}

function checkFields(fields: Field[], obj: Record<string, unknown>, prefix: string, problems: string[]) {
  for (const f of fields) {
    const path = prefix + f.name;
    const v = obj[f.name];
    if (v === undefined || v === null) {
      if (!f.nullable) problems.push(`${path}: required (${formatFieldType(f.type)}) but ${v === null ? "null" : "missing"}`);
      continue;
    }
    checkValue(f.type, v, path, problems);
    if (problems.length > 20) return;
  }
}

function checkValue(type: FieldType, v: unknown, path: string, problems: string[]) {
  const bad = (what: string) => problems.push(`${path}: expected ${formatFieldType(type)}, got ${what}`);
  const kind = Array.isArray(v) ? "list" : v === null ? "null" : typeof v;
  if (typeof type === "string") {
    switch (type) {
      case "string": if (typeof v !== "string") bad(kind); return;
      case "int": if (typeof v !== "number" || !Number.isInteger(v)) bad(typeof v === "number" ? `${v}` : kind); return;
      case "float": if (typeof v !== "number") bad(kind); return;
      case "bool": if (typeof v !== "boolean") bad(kind); return;
      case "timestamp": if (typeof v !== "number" || !Number.isFinite(v)) bad(kind === "string" ? "a string (timestamps are epoch milliseconds)" : kind); return;
      case "json": return;
    }
  }
  if (isListType(type)) {
    if (!Array.isArray(v)) return bad(kind);
    v.forEach((item, i) => item !== null && checkValue(type.list, item, `${path}[${i}]`, problems));
    return;
  }
  if (kind !== "object") return bad(kind);
  checkFields(type.struct, v as Record<string, unknown>, path + ".", problems);
}
