import { compileExpression, fieldTypeOfCel, type CompiledExpression } from "@/lib/expr";
import { didYouMeanSuffix } from "@/lib/expr/suggest";
import { durationMs, type WindowAggregate, type WindowNodeConfig } from "@/lib/pipeline/nodes/window";
import { allFieldPaths, formatFieldType, lookupField, type Field, type FieldType, type StreamSchema } from "@/lib/pipeline/schema";
import { exprDiagnostics, type OpDiagnostic } from "../types";

/** Hopping windows put each record into size/slide windows; beyond these counts state and output explode. */
export const HOPPING_WINDOWS_WARN = 100;
export const HOPPING_WINDOWS_MAX = 1_000;
export const TOP_K_MAX = 1_000;

const NUMERIC = new Set<FieldType>(["int", "float"]);
const ORDERED = new Set<FieldType>(["int", "float", "timestamp", "string"]);
const TIME_TYPES = new Set<FieldType>(["timestamp", "int", "float"]);

export interface CompiledKeys {
  diagnostics: OpDiagnostic[];
  /** One per config key, undefined where the expression did not compile. */
  exprs: (CompiledExpression | undefined)[];
}

export function compileWindowKeys(config: WindowNodeConfig, input: StreamSchema): CompiledKeys {
  const diagnostics: OpDiagnostic[] = [];
  const exprs = config.keys.map((k, i) => {
    const r = compileExpression(k.expr, input);
    if (!r.ok) {
      diagnostics.push(...exprDiagnostics(`keys[${i}].expr`, r.diagnostics));
      return undefined;
    }
    diagnostics.push(...exprDiagnostics(`keys[${i}].expr`, r.expr.warnings));
    return r.expr;
  });
  return { diagnostics, exprs };
}

function aggregateType(agg: WindowAggregate, input: StreamSchema): Field {
  const source = agg.field === undefined ? undefined : lookupField(input, agg.field);
  const t: FieldType = source?.type ?? "json";
  switch (agg.fn) {
    case "count":
    case "count_distinct":
    case "approx_count_distinct":
      return { name: agg.name, type: "int" };
    case "sum":
      return { name: agg.name, type: t === "int" ? "int" : "float" };
    case "avg":
      return { name: agg.name, type: "float", nullable: true };
    case "min":
    case "max":
    case "first":
    case "last":
      return { name: agg.name, type: t, nullable: true };
    case "top_k":
      return {
        name: agg.name,
        type: { list: { struct: [{ name: "value", type: t }, { name: "count", type: "int" }] } },
        doc: `the ${agg.k ?? 10} most frequent values, most frequent first`,
      };
  }
}

/** Output fields: the keys, window start and end (timestamps), then the aggregates, in config order. */
export function windowOutputSchema(config: WindowNodeConfig, input: StreamSchema, keys: CompiledKeys = compileWindowKeys(config, input)): StreamSchema {
  const out: Field[] = config.keys.map((k, i) => {
    const e = keys.exprs[i];
    return e ? { name: k.name, type: fieldTypeOfCel(e.type), nullable: e.nullable || undefined } : { name: k.name, type: "json" as const, nullable: true };
  });
  out.push({ name: config.windowStartField, type: "timestamp", doc: "window start (inclusive), epoch ms" });
  out.push({ name: config.windowEndField, type: "timestamp", doc: "window end (exclusive), epoch ms" });
  for (const a of config.aggregates) out.push(aggregateType(a, input));
  return out;
}

/**
 * Config problems a parsed Window config can still have, with paths inside
 * the config: durations that make no sense, unknown or mistyped fields, name
 * clashes in the output. Key expressions are checked by `compileWindowKeys`.
 */
export function validateWindowConfig(config: WindowNodeConfig, input: StreamSchema): OpDiagnostic[] {
  const ds: OpDiagnostic[] = [];
  const err = (path: string, code: string, message: string) => ds.push({ severity: "error", code, path, message });
  const warn = (path: string, code: string, message: string) => ds.push({ severity: "warning", code, path, message });
  const paths = allFieldPaths(input);

  const w = config.window;
  let sizeMs = Infinity;
  if (w.kind === "session") {
    if (durationMs(w.gap) <= 0) err("window.gap", "invalid-duration", "the session gap must be longer than 0");
  } else {
    sizeMs = durationMs(w.size);
    if (sizeMs <= 0) err("window.size", "invalid-duration", "the window size must be longer than 0");
    if (w.kind === "hopping") {
      const slide = durationMs(w.slide);
      if (slide <= 0) err("window.slide", "invalid-duration", "the slide must be longer than 0");
      else if (slide > sizeMs) {
        err("window.slide", "slide-exceeds-size", `slide ${w.slide} is longer than size ${w.size}, so records between windows would be skipped; use a slide up to the size (equal = tumbling)`);
      } else if (sizeMs > 0) {
        const perRecord = Math.ceil(sizeMs / slide);
        if (perRecord > HOPPING_WINDOWS_MAX) err("window.slide", "too-many-windows", `each record would fall into ${perRecord} windows (max ${HOPPING_WINDOWS_MAX}); use a longer slide`);
        else if (perRecord > HOPPING_WINDOWS_WARN) warn("window.slide", "many-windows", `each record falls into ${perRecord} windows, which multiplies state and output; consider a longer slide`);
      }
    }
  }

  if (config.timeField === undefined) {
    warn(
      "timeField",
      "processing-time",
      "no event-time field: windows use processing time, so results depend on when records arrive and change on replay; pick a timestamp field for reproducible results",
    );
    if (durationMs(config.allowedLateness) > 0) warn("allowedLateness", "ignored", "allowed lateness only applies to event-time windows");
    if (durationMs(config.maxOutOfOrderness) > 0) warn("maxOutOfOrderness", "ignored", "out-of-orderness only applies to event-time windows");
    if (config.idleTimeout !== undefined) warn("idleTimeout", "ignored", "the idle timeout only applies to event-time windows");
  } else {
    const f = lookupField(input, config.timeField);
    if (!f) err("timeField", "unknown-field", `unknown field "${config.timeField}"${didYouMeanSuffix(config.timeField, paths)}`);
    else if (!TIME_TYPES.has(f.type)) {
      err("timeField", "wrong-type", `the event-time field must be a timestamp (or int epoch ms), but "${config.timeField}" is ${formatFieldType(f.type)}`);
    }
  }

  if (config.emit !== "on_close") {
    const early = durationMs(config.emit.early);
    if (early <= 0) err("emit.early", "invalid-duration", "the early-result interval must be longer than 0");
    else if (early >= sizeMs) warn("emit.early", "early-not-shorter", "early results are only useful with an interval shorter than the window size");
  }

  const names = new Map<string, string>();
  const claim = (name: string, path: string) => {
    const prev = names.get(name);
    if (prev !== undefined) err(path, "duplicate-name", `output field "${name}" is already used by ${prev}`);
    else names.set(name, path);
  };
  config.keys.forEach((k, i) => claim(k.name, `keys[${i}].name`));
  claim(config.windowStartField, "windowStartField");
  claim(config.windowEndField, "windowEndField");

  config.aggregates.forEach((a, i) => {
    const at = `aggregates[${i}]`;
    claim(a.name, `${at}.name`);
    if (a.fn === "top_k") {
      if (a.k === undefined) err(`${at}.k`, "missing-k", "top_k needs k, the number of values to keep");
      else if (a.k < 1 || a.k > TOP_K_MAX) err(`${at}.k`, "invalid-k", `k must be between 1 and ${TOP_K_MAX}`);
    } else if (a.k !== undefined) warn(`${at}.k`, "ignored", `k only applies to top_k, not ${a.fn}`);
    if (a.field === undefined) {
      if (a.fn !== "count") err(`${at}.field`, "missing-field", `${a.fn} needs a field to aggregate`);
      return;
    }
    const f = lookupField(input, a.field);
    if (!f) {
      err(`${at}.field`, "unknown-field", `unknown field "${a.field}"${didYouMeanSuffix(a.field, paths)}`);
      return;
    }
    if ((a.fn === "sum" || a.fn === "avg") && !NUMERIC.has(f.type)) {
      err(`${at}.field`, "wrong-type", `${a.fn} needs an int or float field, but "${a.field}" is ${formatFieldType(f.type)}`);
    }
    if ((a.fn === "min" || a.fn === "max") && !ORDERED.has(f.type)) {
      err(`${at}.field`, "wrong-type", `${a.fn} needs an int, float, timestamp or string field, but "${a.field}" is ${formatFieldType(f.type)}`);
    }
  });
  return ds;
}
