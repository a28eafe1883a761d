import type { Field, FieldType } from "@/lib/pipeline/schema";
import { isListType, isStructType } from "@/lib/pipeline/schema";

/**
 * Static CEL types as the Sluice checker sees them. Records are JSON, so at run
 * time int, uint and double are all JS numbers, and timestamps/durations are
 * epoch/elapsed milliseconds; the static type picks the overload (for example
 * `string(ts)` formats ISO-8601) and guards the value read from the record.
 */
export type CelType =
  | "int"
  | "uint"
  | "double"
  | "string"
  | "bool"
  | "bytes"
  | "null"
  | "timestamp"
  | "duration"
  | "dyn"
  | { list: CelType }
  | { map: CelType }
  | { struct: Field[] };

export const DYN: CelType = "dyn";

export function listOf(t: CelType): CelType {
  return { list: t };
}

export function isList(t: CelType): t is { list: CelType } {
  return typeof t === "object" && "list" in t;
}
export function isMap(t: CelType): t is { map: CelType } {
  return typeof t === "object" && "map" in t;
}
export function isStruct(t: CelType): t is { struct: Field[] } {
  return typeof t === "object" && "struct" in t;
}
export function isNumeric(t: CelType): boolean {
  return t === "int" || t === "uint" || t === "double";
}

export function celTypeOfField(t: FieldType): CelType {
  if (typeof t === "string") {
    switch (t) {
      case "float":
        return "double";
      case "json":
        return "dyn";
      default:
        return t;
    }
  }
  if (isListType(t)) return { list: celTypeOfField(t.list) };
  return { struct: t.struct };
}

/** The schema field type an expression result is stored as (Projection output schemas). */
export function fieldTypeOfCel(t: CelType): FieldType {
  if (typeof t === "string") {
    switch (t) {
      case "int":
      case "uint":
        return "int";
      case "double":
        return "float";
      case "string":
      case "bool":
      case "timestamp":
        return t;
      case "duration":
        return "int";
      default:
        return "json";
    }
  }
  if (isList(t)) return { list: fieldTypeOfCel(t.list) };
  if (isStruct(t)) return { struct: t.struct };
  return "json";
}

export function formatCelType(t: CelType): string {
  if (typeof t === "string") return t;
  if (isList(t)) return `list(${formatCelType(t.list)})`;
  if (isMap(t)) return `map(string, ${formatCelType(t.map)})`;
  return `struct{${t.struct.map((f) => f.name).join(", ")}}`;
}

/**
 * Whether a value of type `actual` may be passed where `expected` is declared.
 * dyn is compatible both ways (checked at run time); int and uint widen to
 * double because JSON numbers do not carry the distinction users care about.
 */
export function assignable(expected: CelType, actual: CelType): boolean {
  if (expected === "dyn" || actual === "dyn") return true;
  if (typeof expected === "string" || typeof actual === "string") {
    if (expected === actual) return true;
    if (expected === "double" && (actual === "int" || actual === "uint")) return true;
    if (expected === "int" && actual === "uint") return true;
    return false;
  }
  if (isList(expected)) return isList(actual) && assignable(expected.list, actual.list);
  if (isMap(expected)) {
    if (isMap(actual)) return assignable(expected.map, actual.map);
    return isStruct(actual);
  }
  // struct expected
  if (isStruct(actual)) return true;
  return isMap(actual);
}

/** Least common type of two branches (ternary arms, list elements). */
export function joinTypes(a: CelType, b: CelType): CelType {
  if (a === b) return a;
  if (a === "null") return b;
  if (b === "null") return a;
  if (isNumeric(a) && isNumeric(b)) return "double";
  if (isList(a) && isList(b)) return { list: joinTypes(a.list, b.list) };
  if (isMap(a) && isMap(b)) return { map: joinTypes(a.map, b.map) };
  if (isStruct(a) && isStruct(b) && JSON.stringify(a) === JSON.stringify(b)) return a;
  return "dyn";
}

/** Element type when iterating (comprehensions): list elements, map keys. */
export function iterationType(t: CelType): CelType | undefined {
  if (t === "dyn") return "dyn";
  if (isList(t)) return t.list;
  if (isMap(t) || isStruct(t)) return "string";
  return undefined;
}

/** A run-time guard for a declared type: cheap typeof checks, not deep validation. */
export function runtimeGuard(t: CelType): (v: unknown) => boolean {
  if (typeof t === "string") {
    switch (t) {
      case "int":
      case "uint":
        return Number.isInteger as (v: unknown) => boolean;
      case "double":
      case "timestamp":
      case "duration":
        return (v) => typeof v === "number";
      case "string":
        return (v) => typeof v === "string";
      case "bool":
        return (v) => typeof v === "boolean";
      case "bytes":
        return (v) => v instanceof Uint8Array;
      case "null":
        return (v) => v === null;
      default:
        return () => true;
    }
  }
  if (isList(t)) return (v) => Array.isArray(v);
  return (v) => v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The run-time type name of a value, for error messages. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "double";
  if (typeof v === "string" || typeof v === "boolean") return typeof v === "string" ? "string" : "bool";
  if (Array.isArray(v)) return "list";
  if (v instanceof Uint8Array) return "bytes";
  if (typeof v === "object") return "map";
  return typeof v;
}
