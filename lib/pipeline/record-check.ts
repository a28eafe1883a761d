import type { Field, FieldType, StreamSchema } from "./schema";
import { formatFieldType, isListType } from "./schema";

/**
 * Checks decoded JSON records against a stream schema. Fields not in the
 * schema are allowed: producers may be ahead of the registered schema, and
 * consumers read only what they know.
 *
 * `compileRecordCheck` builds the checker once per schema; it runs on every
 * record a pipeline reads, so the conforming case allocates nothing and the
 * problem descriptions are only built for records that fail.
 */
export type RecordCheck = (value: unknown) => string[] | undefined;

type Check = (v: unknown) => boolean;

function typeCheck(type: FieldType): Check {
  if (typeof type === "string") {
    switch (type) {
      case "string": return (v) => typeof v === "string";
      case "int": return (v) => typeof v === "number" && Number.isInteger(v);
      case "float": return (v) => typeof v === "number";
      case "bool": return (v) => typeof v === "boolean";
      case "timestamp": return (v) => typeof v === "number" && Number.isFinite(v);
      case "json": return () => true;
    }
  }
  if (isListType(type)) {
    const item = typeCheck(type.list);
    return (v) => Array.isArray(v) && v.every((x) => x === null || item(x));
  }
  const inner = fieldsCheck(type.struct);
  return (v) => v !== null && typeof v === "object" && !Array.isArray(v) && inner(v as Record<string, unknown>);
}

function fieldsCheck(fields: Field[]): (obj: Record<string, unknown>) => boolean {
  const checks = fields.map((f) => ({ name: f.name, nullable: f.nullable === true, ok: typeCheck(f.type) }));
  return (obj) => {
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i];
      const v = obj[c.name];
      if (v === undefined || v === null) {
        if (!c.nullable) return false;
      } else if (!c.ok(v)) return false;
    }
    return true;
  };
}

export function compileRecordCheck(schema: StreamSchema): RecordCheck {
  const ok = fieldsCheck(schema);
  return (value) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return ["a record must be a JSON object"];
    return ok(value as Record<string, unknown>) ? undefined : checkRecord(schema, value);
  };
}

/** One problem of a record: the field it is in (`geo.country`, `tags[1]`; empty for the record itself) and what is wrong. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** Every problem of a record, for the one that failed: each names the field, what was expected and what came. */
export function checkRecord(schema: StreamSchema, value: unknown): string[] {
  return recordProblems(schema, value).map((p) => (p.field ? `${p.field}: ${p.message}` : p.message));
}

/** `checkRecord` with the field and the message apart (the CLI and the API print the field on its own). */
export function recordProblems(schema: StreamSchema, value: unknown): FieldProblem[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [{ field: "", message: "a record must be a JSON object" }];
  return describe(schema, value as Record<string, unknown>);
}

function describe(fields: Field[], obj: Record<string, unknown>, prefix = "", problems: FieldProblem[] = []): FieldProblem[] {
  for (const f of fields) {
    const path = prefix + f.name;
    const v = obj[f.name];
    if (v === undefined || v === null) {
      if (!f.nullable) problems.push({ field: path, message: `required (${formatFieldType(f.type)}) but ${v === null ? "null" : "missing"}` });
      continue;
    }
    describeValue(f.type, v, path, problems);
    if (problems.length > 20) break;
  }
  return problems;
}

function describeValue(type: FieldType, v: unknown, path: string, problems: FieldProblem[]): void {
  const kind = Array.isArray(v) ? "list" : v === null ? "null" : typeof v;
  const bad = (what: string) => problems.push({ field: path, message: `expected ${formatFieldType(type)}, got ${what}` });
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
    if (!Array.isArray(v)) return void bad(kind);
    v.forEach((item, i) => item !== null && describeValue(type.list, item, `${path}[${i}]`, problems));
    return;
  }
  if (kind !== "object") return void bad(kind);
  describe(type.struct, v as Record<string, unknown>, path + ".", problems);
}
