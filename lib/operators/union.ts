import type { UnionNodeConfig } from "@/lib/pipeline/nodes/union";
import type { Field, FieldType, Row, StreamSchema } from "@/lib/pipeline/schema";
import { fieldTypesEqual, formatFieldType } from "@/lib/pipeline/schema";
import type { Batch, Built, OpDiagnostic } from "./types";

export interface UnionInput {
  /** Target port name of the incoming edge: the value written to `sourceField`. */
  port: string;
  schema: StreamSchema;
}

export interface UnionOp {
  kind: "union";
  nodeId: string;
  /** Aligns one input's batch to the union schema (missing fields null, source field set). */
  align: (inputIndex: number, batch: Batch) => Batch;
}

/** int and float merge to float: JSON does not distinguish 1 from 1.0. */
function mergeTypes(a: FieldType, b: FieldType): FieldType | undefined {
  if (fieldTypesEqual(a, b)) return a;
  if ((a === "int" && b === "float") || (a === "float" && b === "int")) return "float";
  return undefined;
}

export function buildUnion(nodeId: string, config: UnionNodeConfig, inputs: UnionInput[]): Built<UnionOp> {
  const diagnostics: OpDiagnostic[] = [];
  const merged = new Map<string, Field>();
  const presentIn = new Map<string, Set<number>>();
  const conflicts = new Map<string, string[]>();
  inputs.forEach((input, idx) => {
    for (const f of input.schema) {
      (presentIn.get(f.name) ?? presentIn.set(f.name, new Set()).get(f.name)!).add(idx);
      const prev = merged.get(f.name);
      if (!prev) {
        merged.set(f.name, { ...f });
        continue;
      }
      const t = mergeTypes(prev.type, f.type);
      if (t === undefined) {
        const list = conflicts.get(f.name) ?? [];
        list.push(`${formatFieldType(f.type)} in "${input.port}"`);
        conflicts.set(f.name, list);
      } else merged.set(f.name, { ...prev, type: t, nullable: prev.nullable || f.nullable || undefined });
    }
  });
  if (conflicts.size > 0) {
    const details = [...conflicts].map(([name, others]) => {
      const first = inputs.find((i) => i.schema.some((f) => f.name === name))!;
      const t = first.schema.find((f) => f.name === name)!.type;
      return `"${name}" is ${formatFieldType(t)} in "${first.port}" but ${others.join(", ")}`;
    });
    diagnostics.push({
      severity: "error",
      code: "union-schema-mismatch",
      message: `inputs have incompatible schemas: ${details.join("; ")}. Cast the fields to one type with a Projection before the union`,
      path: "",
    });
  }
  const schema: Field[] = [];
  const missingPerInput: string[][] = inputs.map(() => []);
  for (const [name, f] of merged) {
    const present = presentIn.get(name)!;
    if (present.size < inputs.length) {
      inputs.forEach((_, idx) => {
        if (!present.has(idx)) missingPerInput[idx].push(name);
      });
      diagnostics.push({
        severity: "info",
        code: "union-field-missing",
        message: `"${name}" is only in ${[...present].map((i) => `"${inputs[i].port}"`).join(", ")}; records from the other inputs get null`,
        path: "",
      });
      schema.push({ ...f, nullable: true });
    } else schema.push(f);
  }
  const sourceField = config.sourceField;
  if (sourceField !== undefined) {
    if (merged.has(sourceField)) {
      diagnostics.push({ severity: "error", code: "duplicate-field", message: `sourceField "${sourceField}" already exists in the inputs; pick another name`, path: "sourceField" });
    }
    const ports = inputs.map((i) => i.port);
    const dup = ports.find((p, i) => ports.indexOf(p) !== i);
    if (dup !== undefined) {
      diagnostics.push({ severity: "error", code: "duplicate-port", message: `two inputs arrive on port "${dup}": give each incoming edge its own port name so sourceField can tell them apart`, path: "sourceField" });
    }
    schema.push({ name: sourceField, type: "string" });
  }
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics };

  const align = (inputIndex: number, batch: Batch): Batch => {
    const missing = missingPerInput[inputIndex];
    if (missing.length === 0 && sourceField === undefined) return batch;
    const port = inputs[inputIndex].port;
    const rows = batch.rows.map((row) => {
      const out: Row = { ...row };
      for (const m of missing) out[m] = null;
      if (sourceField !== undefined) out[sourceField] = port;
      return out;
    });
    return { rows, metas: batch.metas };
  };
  return { diagnostics, op: { kind: "union", nodeId, align }, outputSchema: schema };
}
