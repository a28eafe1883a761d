import { compileExpression, fieldTypeOfCel } from "@/lib/expr";
import { didYouMeanSuffix } from "@/lib/expr/suggest";
import type { ProjectionNodeConfig } from "@/lib/pipeline/nodes/projection";
import type { Field, FieldType, Row, StreamSchema } from "@/lib/pipeline/schema";
import { allFieldPaths, isStructType, readPath, splitFieldPath } from "@/lib/pipeline/schema";
import { casterFor } from "./cast";
import type { Batch, Built, OpDiagnostic, RecordError } from "./types";
import { exprDiagnostics, reasonOf } from "./types";

export interface ProjectionOp {
  kind: "projection";
  nodeId: string;
  /** Builds the output record (a new object; the input is never mutated). Throws for a per-record failure. */
  project: (row: Row) => Row;
}

type Getter = (row: Row) => unknown;

/** Field read by dotted path; nullable when any segment on the way is. */
function resolvePath(schema: StreamSchema, path: string): { field: Field; nullable: boolean } | undefined {
  let fields: Field[] | undefined = schema;
  let nullable = false;
  let found: Field | undefined;
  for (const seg of splitFieldPath(path)) {
    found = fields?.find((f) => f.name === seg);
    if (!found) return undefined;
    nullable ||= found.nullable === true;
    fields = isStructType(found.type) ? found.type.struct : undefined;
  }
  return found ? { field: found, nullable } : undefined;
}

/** Leaves of a struct, named by joining the path with the separator (user.geo.city → user_geo_city). */
function flattenFields(prefix: string, fields: Field[], sep: string, nullable: boolean): { name: string; path: string[]; field: Field }[] {
  const out: { name: string; path: string[]; field: Field }[] = [];
  for (const f of fields) {
    const name = `${prefix}${sep}${f.name}`;
    const isNullable = nullable || f.nullable === true;
    if (isStructType(f.type)) {
      for (const leaf of flattenFields(name, f.type.struct, sep, isNullable)) out.push({ ...leaf, path: [f.name, ...leaf.path] });
    } else out.push({ name, path: [f.name], field: { ...f, name, nullable: isNullable || undefined } });
  }
  return out;
}

export function buildProjection(nodeId: string, config: ProjectionNodeConfig, input: StreamSchema): Built<ProjectionOp> {
  const diagnostics: OpDiagnostic[] = [];
  const names: string[] = [];
  const getters: Getter[] = [];
  const schema: Field[] = [];
  const seen = new Set<string>();
  const renamedAway = new Set<string>();
  let broken = false;

  config.fields.forEach((f, i) => {
    if (seen.has(f.name)) {
      diagnostics.push({ severity: "error", code: "duplicate-field", message: `output field "${f.name}" is defined twice`, path: `fields[${i}].name` });
      broken = true;
      return;
    }
    seen.add(f.name);
    let type: FieldType;
    let nullable: boolean;
    let getter: Getter;
    if (f.from !== undefined) {
      const resolved = resolvePath(input, f.from);
      if (!resolved) {
        diagnostics.push({
          severity: "error",
          code: "unknown-field",
          message: `unknown field "${f.from}"${didYouMeanSuffix(f.from, allFieldPaths(input))}`,
          path: `fields[${i}].from`,
        });
        broken = true;
        return;
      }
      type = resolved.field.type;
      nullable = resolved.nullable;
      const segs = splitFieldPath(f.from);
      if (segs.length === 1) {
        const key = segs[0];
        if (key !== f.name) renamedAway.add(key);
        getter = key in Object.prototype ? (row) => readPath(row, segs) ?? null : (row) => row[key] ?? null;
      } else getter = (row) => readPath(row, segs) ?? null;
    } else {
      const compiled = compileExpression(f.expr!, input);
      if (!compiled.ok) {
        diagnostics.push(...exprDiagnostics(`fields[${i}].expr`, compiled.diagnostics));
        broken = true;
        return;
      }
      diagnostics.push(...exprDiagnostics(`fields[${i}].expr`, compiled.expr.warnings));
      type = fieldTypeOfCel(compiled.expr.type);
      nullable = compiled.expr.nullable;
      const evaluate = compiled.expr.evaluate;
      getter = (row) => evaluate(row) ?? null;
    }
    if (f.cast) {
      const caster = casterFor(type, f.cast);
      if (typeof caster === "string") {
        diagnostics.push({ severity: "error", code: "invalid-cast", message: caster, path: `fields[${i}].cast` });
        broken = true;
        return;
      }
      const inner = getter;
      getter = (row) => caster(inner(row));
      type = f.cast;
    }
    names.push(f.name);
    getters.push(getter);
    schema.push({ name: f.name, type, ...(nullable ? { nullable: true } : {}) });
  });

  const inputNames = new Set(input.map((f) => f.name));
  config.drop.forEach((d, i) => {
    if (!config.keepOthers) {
      diagnostics.push({ severity: "warning", code: "drop-without-keep", message: `dropping "${d}" has no effect: only the listed fields are output unless keepOthers is on`, path: `drop[${i}]` });
    } else if (!inputNames.has(d)) {
      diagnostics.push({ severity: "warning", code: "unknown-field", message: `"${d}" is not an input field${didYouMeanSuffix(d, inputNames)}`, path: `drop[${i}]` });
    }
  });

  const passThrough: string[] = [];
  if (config.keepOthers) {
    const dropped = new Set(config.drop);
    for (const f of input) {
      if (seen.has(f.name) || dropped.has(f.name) || renamedAway.has(f.name)) continue;
      passThrough.push(f.name);
      schema.push(f);
    }
  }

  // Flatten rewrites output fields into leaves; computed here once, applied per record below.
  const flatteners: { name: string; leaves: { name: string; path: string[] }[] }[] = [];
  config.flatten.forEach((rule, i) => {
    const idx = schema.findIndex((f) => f.name === rule.field);
    const target = schema[idx];
    if (!target) {
      diagnostics.push({ severity: "error", code: "unknown-field", message: `cannot flatten "${rule.field}": it is not an output field${didYouMeanSuffix(rule.field, schema.map((f) => f.name))}`, path: `flatten[${i}].field` });
      broken = true;
      return;
    }
    if (!isStructType(target.type)) {
      diagnostics.push({ severity: "error", code: "flatten-not-struct", message: `cannot flatten "${rule.field}": it is ${typeof target.type === "string" ? target.type : "a list"}, not a struct with a known schema`, path: `flatten[${i}].field` });
      broken = true;
      return;
    }
    const leaves = flattenFields(rule.field, target.type.struct, rule.separator, target.nullable === true);
    for (const leaf of leaves) {
      if (schema.some((f) => f.name === leaf.name)) {
        diagnostics.push({ severity: "error", code: "duplicate-field", message: `flattening "${rule.field}" produces "${leaf.name}", which already exists`, path: `flatten[${i}]` });
        broken = true;
        return;
      }
    }
    schema.splice(idx, 1, ...leaves.map((l) => l.field));
    flatteners.push({ name: rule.field, leaves: leaves.map((l) => ({ name: l.name, path: l.path })) });
  });

  if (schema.length === 0 && !broken) {
    diagnostics.push({ severity: "error", code: "empty-projection", message: "the projection outputs no fields: add fields or turn on keepOthers", path: "fields" });
    broken = true;
  }
  if (broken) return { diagnostics };

  const n = names.length;
  const project = (row: Row): Row => {
    const out: Row = {};
    for (let i = 0; i < n; i++) out[names[i]] = getters[i](row);
    for (let i = 0; i < passThrough.length; i++) {
      const k = passThrough[i];
      if (Object.prototype.hasOwnProperty.call(row, k)) out[k] = row[k];
    }
    return out;
  };
  const finalProject =
    flatteners.length === 0
      ? project
      : (row: Row): Row => {
          const base = project(row);
          const out: Row = {};
          // Rebuild so leaves keep the position of the struct they replace.
          for (const key of Object.keys(base)) {
            const fl = flatteners.find((f) => f.name === key);
            if (!fl) out[key] = base[key];
            else {
              const v = base[key];
              for (const leaf of fl.leaves) out[leaf.name] = v === null || typeof v !== "object" ? null : (readPath(v as Row, leaf.path) ?? null);
            }
          }
          return out;
        };
  return { diagnostics, op: { kind: "projection", nodeId, project: finalProject }, outputSchema: schema };
}

/** Batch form of the Projection operator. */
export function runProjection(op: ProjectionOp, batch: Batch): { out: Batch; errors: RecordError[] } {
  const out: Batch = { rows: [], metas: [] };
  const errors: RecordError[] = [];
  const { rows, metas } = batch;
  for (let i = 0; i < rows.length; i++) {
    try {
      out.rows.push(op.project(rows[i]));
      out.metas.push(metas[i]);
    } catch (e) {
      errors.push({ nodeId: op.nodeId, reason: reasonOf(e), record: rows[i], meta: metas[i] });
    }
  }
  return { out, errors };
}
