import type { WindowNodeConfig } from "@/lib/pipeline/nodes/window";
import { readPath, splitFieldPath, type Row, type StreamSchema } from "@/lib/pipeline/schema";
import type { OpDiagnostic } from "../types";
import { distinctKey } from "./aggregates";
import { WindowOperator, type WindowDeps, type WindowOptions } from "./operator";
import { compileWindowKeys, validateWindowConfig, windowOutputSchema } from "./schema";

export { WindowOperator, WindowSnapshotError } from "./operator";
export type { WindowChange, WindowDeps, WindowError, WindowOptions, WindowResult, WindowSnapshot, WindowStats } from "./operator";
export { compileWindowKeys, validateWindowConfig, windowOutputSchema } from "./schema";
export { PartitionWatermarks, type PartitionId, type WatermarkCheck } from "./watermarks";
export { UpstreamWatermarks, type UpstreamState, type WatermarkMarker } from "./upstream";
export { WatermarkForwarder, type ForwardedWatermark } from "./forwarder";
export { distinctKey } from "./aggregates";

export interface BuiltWindow {
  diagnostics: OpDiagnostic[];
  outputSchema?: StreamSchema;
  /** Present when there are no errors: a fresh operator per task/preview. */
  create?: (options?: WindowOptions) => WindowOperator;
  deps?: WindowDeps;
}

/**
 * Everything a Window node needs from its config and input schema: diagnostics
 * (config and key expressions), the output schema, and a factory for operators
 * whose key and event-time functions are compiled once here.
 */
export function buildWindow(config: WindowNodeConfig, input: StreamSchema): BuiltWindow {
  const keys = compileWindowKeys(config, input);
  const diagnostics = [...validateWindowConfig(config, input), ...keys.diagnostics];
  const outputSchema = windowOutputSchema(config, input, keys);
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics, outputSchema };
  const deps = windowDeps(
    config,
    keys.exprs.map((e, i) => ({ evaluate: e!.evaluate, plainString: e!.type === "string" && !e!.nullable, field: topLevelField(config.keys[i].expr, input) })),
  );
  return { diagnostics, outputSchema, deps, create: (options) => new WindowOperator(config, deps, options) };
}

/**
 * Key and time functions from compiled key evaluators. Keys are encoded with
 * their type (distinctKey) so "1" and 1 are different groups, except a single
 * non-null string key, which is used as is (no per-record string building).
 */
/** The field name when a key expression is just a top-level field of the input (the common case). */
function topLevelField(expr: string, input: StreamSchema): string | undefined {
  const name = expr.trim();
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && input.some((f) => f.name === name) ? name : undefined;
}

export function windowDeps(config: WindowNodeConfig, keys: { evaluate: (row: Row) => unknown; plainString: boolean; field?: string }[]): WindowDeps {
  const names = config.keys.map((k) => k.name);
  let keyOf: (row: Row) => string;
  if (keys.length === 0) keyOf = () => "";
  else if (keys.length === 1) {
    const ev = keys[0].evaluate;
    const field = keys[0].field;
    if (keys[0].plainString && field !== undefined) {
      // Hot path: a string field used as the key is read directly; anything else
      // (missing, wrong type) goes through the compiled expression, which reports it.
      keyOf = (row) => {
        const v = row[field];
        return typeof v === "string" ? v : (ev(row) as string);
      };
    } else keyOf = keys[0].plainString ? (ev as (row: Row) => string) : (row) => distinctKey(ev(row) ?? null);
  } else {
    keyOf = (row) => {
      let k = distinctKey(keys[0].evaluate(row) ?? null);
      for (let i = 1; i < keys.length; i++) k += "\u0000" + distinctKey(keys[i].evaluate(row) ?? null);
      return k;
    };
  }
  const keyFieldsOf = (row: Row) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) out[names[i]] = keys[i].evaluate(row) ?? null;
    return out;
  };
  let eventTimeOf: (row: Row) => number | undefined = () => undefined;
  if (config.timeField !== undefined) {
    const segs = splitFieldPath(config.timeField);
    const read = segs.length === 1 ? (row: Row) => row[segs[0]] : (row: Row) => readPath(row, segs);
    eventTimeOf = (row) => {
      const v = read(row);
      return typeof v === "number" ? v : undefined;
    };
  }
  return { keyOf, keyFieldsOf, eventTimeOf };
}
