/**
 * Stream schemas: the field list every node's input and output is described by.
 * Shared by the validator (schema propagation), the expression type checker, the
 * operators and the canvas field pickers. Timestamps are epoch milliseconds
 * (numbers) inside records, so operators never parse dates on the hot path.
 */
export type FieldType =
  | "string"
  | "int"
  | "float"
  | "bool"
  | "timestamp"
  | "json"
  | { list: FieldType }
  | { struct: Field[] };

export interface Field {
  name: string;
  type: FieldType;
  nullable?: boolean;
  doc?: string;
}

export type StreamSchema = Field[];

/** A record flowing between operators: decoded once at the source, encoded once at the sink. */
export type Row = Record<string, unknown>;

export function isListType(t: FieldType): t is { list: FieldType } {
  return typeof t === "object" && "list" in t;
}

export function isStructType(t: FieldType): t is { struct: Field[] } {
  return typeof t === "object" && "struct" in t;
}

/** Human-readable type name for diagnostics: `list<string>`, `struct{a: int}`. */
export function formatFieldType(t: FieldType): string {
  if (typeof t === "string") return t;
  if (isListType(t)) return `list<${formatFieldType(t.list)}>`;
  return `struct{${t.struct.map((f) => `${f.name}: ${formatFieldType(f.type)}`).join(", ")}}`;
}

export function fieldTypesEqual(a: FieldType, b: FieldType): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (isListType(a)) return isListType(b) && fieldTypesEqual(a.list, b.list);
  if (!isStructType(b)) return false;
  if (a.struct.length !== b.struct.length) return false;
  const byName = new Map(b.struct.map((f) => [f.name, f]));
  return a.struct.every((f) => {
    const g = byName.get(f.name);
    return g !== undefined && fieldTypesEqual(f.type, g.type);
  });
}

/** Splits a dotted field path (`user.geo.country`) into its segments. */
export function splitFieldPath(path: string): string[] {
  return path.split(".");
}

/** Finds a field by dotted path, descending into struct fields. */
export function lookupField(schema: StreamSchema, path: string | string[]): Field | undefined {
  const segments = typeof path === "string" ? splitFieldPath(path) : path;
  let fields: Field[] | undefined = schema;
  let found: Field | undefined;
  for (const seg of segments) {
    if (!fields) return undefined;
    found = fields.find((f) => f.name === seg);
    if (!found) return undefined;
    fields = isStructType(found.type) ? found.type.struct : undefined;
  }
  return found;
}

/** Every dotted path in a schema (structs flattened), for "did you mean" hints and pickers. */
export function allFieldPaths(schema: StreamSchema, prefix = ""): string[] {
  const out: string[] = [];
  for (const f of schema) {
    const p = prefix ? `${prefix}.${f.name}` : f.name;
    out.push(p);
    if (isStructType(f.type)) out.push(...allFieldPaths(f.type.struct, p));
  }
  return out;
}

/** Reads a dotted path from a row; undefined when any segment is missing or not an object. */
export function readPath(row: Row, segments: readonly string[]): unknown {
  let v: unknown = row;
  for (const s of segments) {
    if (v === null || typeof v !== "object") return undefined;
    // Own properties only: a record without "constructor" must not yield Object's.
    if (!Object.prototype.hasOwnProperty.call(v, s)) return undefined;
    v = (v as Record<string, unknown>)[s];
  }
  return v;
}
