import { didYouMeanSuffix } from "@/lib/expr/suggest";
import { buildWindow } from "@/lib/operators/window";
import type { Batch, Built, OpDiagnostic, RecordError } from "@/lib/operators/types";
import type { RegisteredFunction, ValidationContext } from "./analyze";
import type { NodeOfType, UdfForm } from "./nodes";
import type { Row, StreamSchema } from "./schema";

/**
 * Window and UDF nodes, built from core-2's operators (lib/operators/window,
 * lib/udf) behind two small adapters so the plan only sees batches in and
 * batches out, with every row's meta carried through.
 */
export interface WindowRuntime {
  process(batch: Batch, now: number): { out: Batch; late: Batch; errors: RecordError[] };
  advanceTime(now: number): { out: Batch; late: Batch; errors: RecordError[] };
  flush(): { out: Batch; late: Batch; errors: RecordError[] };
  snapshot(): unknown;
  restore(snapshot: unknown): void;
  drainChanges(): unknown[];
  restoreFromChanges(changes: unknown[]): void;
}

export interface UdfRuntime {
  runBatch(batch: Batch): Promise<{ out: Batch; errors: RecordError[]; filtered: number }>;
  dispose(): void;
}

export type StatefulOp = { kind: "window"; nodeId: string; create: () => WindowRuntime } | { kind: "udf"; nodeId: string; create: () => UdfRuntime };

const noMetas = (rows: Row[]): Batch => ({ rows, metas: new Array<unknown>(rows.length).fill(undefined) });

/** Metas of rows the window hands back (late or failed input rows), found by identity. */
function metasOf(batch: Batch, rows: readonly Row[]): unknown[] {
  if (rows.length === 0) return [];
  const index = new Map<Row, unknown>();
  batch.rows.forEach((r, i) => index.set(r, batch.metas[i]));
  return rows.map((r) => index.get(r));
}

function buildWindowNode(node: NodeOfType<"window">, input: StreamSchema): Built<StatefulOp> {
  const built = buildWindow(node.config, input);
  const create = built.create;
  if (!create) return { diagnostics: built.diagnostics, outputSchema: built.outputSchema };
  const nodeId = node.id;
  const errorsOf = (batch: Batch, errs: { row: Row; reason: string }[]): RecordError[] => {
    const metas = metasOf(batch, errs.map((e) => e.row));
    return errs.map((e, i) => ({ nodeId, reason: e.reason, record: e.row, meta: metas[i] }));
  };
  const make = (): WindowRuntime => {
    const op = create();
    const empty: Batch = { rows: [], metas: [] };
    return {
      process(batch, now) {
        const r = op.process(batch.rows, now);
        return { out: noMetas(r.out), late: { rows: r.late, metas: metasOf(batch, r.late) }, errors: errorsOf(batch, r.errors) };
      },
      advanceTime(now) {
        const r = op.advanceTime(now);
        return { out: noMetas(r.out), late: noMetas(r.late), errors: errorsOf(empty, r.errors) };
      },
      flush() {
        return { out: noMetas(op.flush()), late: { rows: [], metas: [] }, errors: [] };
      },
      snapshot: () => op.snapshot(),
      restore: (s) => op.restore(s as Parameters<typeof op.restore>[0]),
      drainChanges: () => op.drainChanges(),
      restoreFromChanges: (c) => op.restoreFromChanges(c as Parameters<typeof op.restoreFromChanges>[0]),
    };
  };
  return { diagnostics: built.diagnostics, outputSchema: built.outputSchema, op: { kind: "window", nodeId, create: make } };
}

function resolveUdf(node: NodeOfType<"udf">, ctx: ValidationContext): { fn?: Pick<RegisteredFunction, "source" | "form">; diagnostics: OpDiagnostic[] } {
  const f = node.config.function;
  if ("inline" in f) return { fn: f.inline, diagnostics: [] };
  if (!ctx.functions) return { diagnostics: [{ severity: "error", code: "unknown-function", path: "function.name", message: "the function registry is not available here" }] };
  const found = ctx.functions(f.name, f.version);
  if (found) return { fn: found, diagnostics: [] };
  const which = f.version === undefined ? `"${f.name}"` : `"${f.name}" version ${f.version}`;
  return {
    diagnostics: [{ severity: "error", code: "unknown-function", path: f.version === undefined ? "function.name" : "function.version", message: `function ${which} is not in your team's registry${didYouMeanSuffix(f.name, ctx.functionNames?.() ?? [])}` }],
  };
}

function udfOutputSchema(node: NodeOfType<"udf">, form: UdfForm, input: StreamSchema): { schema: StreamSchema; diagnostics: OpDiagnostic[] } {
  if (form === "filter") {
    const diagnostics: OpDiagnostic[] = node.config.outputSchema
      ? [{ severity: "warning", code: "ignored", path: "outputSchema", message: "a filter UDF outputs its input records; outputSchema is ignored" }]
      : [];
    return { schema: input, diagnostics };
  }
  if (node.config.outputSchema) return { schema: node.config.outputSchema, diagnostics: [] };
  return {
    // Without a declaration the best guess is "the input's fields, possibly changed or missing".
    schema: input.map((f) => ({ ...f, nullable: true })),
    diagnostics: [{ severity: "warning", code: "udf-no-output-schema", path: "outputSchema", message: "declare outputSchema so the fields this function returns are known downstream; until then the input's fields are assumed (nullable)" }],
  };
}

function buildUdfNode(node: NodeOfType<"udf">, input: StreamSchema, ctx: ValidationContext): Built<StatefulOp> {
  const { fn, diagnostics } = resolveUdf(node, ctx);
  if (!fn) return { diagnostics };
  const out = udfOutputSchema(node, fn.form, input);
  diagnostics.push(...out.diagnostics);
  const nodeId = node.id;
  const limits = { memoryMb: node.config.memoryMb, timeoutMs: node.config.timeoutMs };
  const make = (): UdfRuntime => {
    // The sandbox (isolated-vm, a native module) is loaded and created on first use,
    // so validating or hashing pipelines never pulls it in.
    let sandbox: Promise<{ runBatch(rows: readonly Row[]): Promise<{ out: Row[]; outIndex: number[]; errors: { index: number; reason: string }[] }>; dispose(): void }> | undefined;
    let disposed = false;
    const get = () =>
      (sandbox ??= import("@/lib/udf").then(async ({ UdfSandbox }) => {
        const s = await UdfSandbox.create(fn.source, fn.form, limits);
        if (disposed) s.dispose();
        return s;
      }));
    return {
      async runBatch(batch) {
        let s;
        try {
          s = await get();
        } catch (e) {
          sandbox = undefined; // retry creation on the next batch
          const reason = `function cannot run: ${e instanceof Error ? e.message : String(e)}`;
          return { out: { rows: [], metas: [] }, errors: batch.rows.map((record, i) => ({ nodeId, reason, record, meta: batch.metas[i] })), filtered: 0 };
        }
        const r = await s.runBatch(batch.rows);
        const errors = r.errors.map((e) => ({ nodeId, reason: e.reason, record: batch.rows[e.index], meta: batch.metas[e.index] }));
        const metas = r.outIndex.map((i) => batch.metas[i]);
        const filtered = fn.form === "filter" ? batch.rows.length - r.out.length - errors.length : 0;
        return { out: { rows: r.out, metas }, errors, filtered };
      },
      dispose() {
        disposed = true;
        void sandbox?.then((s) => s.dispose(), () => undefined);
      },
    };
  };
  return { diagnostics, outputSchema: out.schema, op: { kind: "udf", nodeId, create: make } };
}

export function buildStatefulNode(node: NodeOfType<"window"> | NodeOfType<"udf">, input: StreamSchema, ctx: ValidationContext): Built<StatefulOp> {
  return node.type === "window" ? buildWindowNode(node, input) : buildUdfNode(node, input, ctx);
}

/**
 * The UDF compile check needs an isolate, so it is async and separate from
 * validatePipeline: callers that can wait (deploy, the function editor) add
 * its diagnostics; sandbox creation at run time reports the same problems as
 * error records otherwise.
 */
export async function checkUdfSources(nodes: readonly (NodeOfType<"udf"> | { type: string })[], ctx: ValidationContext): Promise<{ nodeId: string; diagnostic: OpDiagnostic }[]> {
  const out: { nodeId: string; diagnostic: OpDiagnostic }[] = [];
  const udfs = nodes.filter((n): n is NodeOfType<"udf"> => n.type === "udf");
  if (udfs.length === 0) return out;
  const { validateUdfSource } = await import("@/lib/udf");
  for (const n of udfs) {
    const { fn } = resolveUdf(n, ctx);
    if (!fn) continue;
    const path = "inline" in n.config.function ? "function.inline.source" : "function.name";
    for (const d of await validateUdfSource(fn.source, fn.form, path)) out.push({ nodeId: n.id, diagnostic: d });
  }
  return out;
}
