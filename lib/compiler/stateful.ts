import { buildWindow, type PartitionId, type WatermarkCheck } from "@/lib/operators/window";
import type { Batch, Built, OpDiagnostic, RecordError } from "@/lib/operators/types";
import { buildUdf, UdfSandbox, type UdfEncodedResult } from "@/lib/udf";
import type { UdfForm } from "@/lib/pipeline/nodes/udf";
import type { ValidationContext } from "./analyze";
import type { NodeOfType } from "@/lib/pipeline/nodes";
import type { Row, StreamSchema } from "@/lib/pipeline/schema";

/**
 * Window and UDF nodes, built from core-2's operators (lib/operators/window,
 * lib/udf) behind two small adapters so the plan only sees batches in and
 * batches out, with every row's meta carried through.
 */
export interface WindowRuntime {
  process(batch: Batch, now: number): { out: Batch; late: Batch; errors: RecordError[] };
  /** With a source check's result, idle partitions stop holding the watermark back (partitioned watermarks only). */
  advanceTime(now: number, source?: { check: WatermarkCheck; caughtUp: ReadonlySet<PartitionId> }): { out: Batch; late: Batch; errors: RecordError[] };
  /** The source partitions feeding this node that the task owns (partitioned watermarks only). */
  assignPartitions(ids: Iterable<PartitionId>, now: number): void;
  beginSourceCheck(now: number): WatermarkCheck | undefined;
  flush(): { out: Batch; late: Batch; errors: RecordError[] };
  snapshot(): unknown;
  restore(snapshot: unknown): void;
  drainChanges(): unknown[];
  restoreFromChanges(changes: unknown[]): void;
}

export interface UdfRuntime {
  readonly form: UdfForm;
  runBatch(batch: Batch): Promise<{ out: Batch; errors: RecordError[]; filtered: number }>;
  /**
   * Kafka values in, output values out (UdfSandbox.runEncoded), for a UDF the
   * plan fuses with the Source's decode and the Sink's encode. Undefined when
   * the function cannot run now: the object path then reports it per record.
   */
  runEncoded(values: readonly (Uint8Array | null)[], check: string | null): Promise<UdfEncodedResult | undefined>;
  /** Rows in, output values out (UdfSandbox.runRowsEncoded), for a UDF that only feeds Sinks; undefined as for runEncoded. */
  runRowsEncoded(batch: Batch): Promise<{ values: Uint8Array[]; metas: unknown[]; errors: RecordError[]; filtered: number } | undefined>;
  dispose(): void;
}

export interface WindowRuntimeOptions {
  /**
   * The source partition of a row, from its meta. Given, windows keep a
   * watermark per source partition (the runtime and the preview pass this);
   * without it (tests, the in-memory reference) there is one watermark for
   * the whole input.
   */
  partitionOf?: (meta: unknown) => PartitionId | undefined;
}

export type StatefulOp = { kind: "window"; nodeId: string; create: (options?: WindowRuntimeOptions) => WindowRuntime } | { kind: "udf"; nodeId: string; create: () => UdfRuntime };

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
  const make = ({ partitionOf }: WindowRuntimeOptions = {}): WindowRuntime => {
    const op = create(partitionOf ? { watermarks: "partitioned" } : undefined);
    const empty: Batch = { rows: [], metas: [] };
    return {
      process(batch, now) {
        const r = op.process(batch.rows, now, partitionOf ? { partitions: batch.metas.map(partitionOf) } : undefined);
        return { out: noMetas(r.out), late: { rows: r.late, metas: metasOf(batch, r.late) }, errors: errorsOf(batch, r.errors) };
      },
      advanceTime(now, source) {
        const r = op.advanceTime(now, source);
        return { out: noMetas(r.out), late: noMetas(r.late), errors: errorsOf(empty, r.errors) };
      },
      assignPartitions: (ids, now) => op.assignPartitions(ids, now),
      beginSourceCheck: (now) => op.beginSourceCheck(now),
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

function buildUdfNode(node: NodeOfType<"udf">, input: StreamSchema, ctx: ValidationContext): Built<StatefulOp> {
  const built = buildUdf(node.config, input, ctx.functions, ctx.functionNames);
  const fn = built.resolved;
  if (!fn) return { diagnostics: built.diagnostics, outputSchema: built.outputSchema };
  const nodeId = node.id;
  const limits = { memoryMb: node.config.memoryMb, timeoutMs: node.config.timeoutMs };
  const make = (): UdfRuntime => {
    // One sandbox (isolate) per plan, created on the first batch.
    let sandbox: Promise<UdfSandbox> | undefined;
    let disposed = false;
    const get = () =>
      (sandbox ??= UdfSandbox.create(fn.source, fn.form, limits).then((s) => {
        if (disposed) s.dispose();
        return s;
      }));
    // For the encoded paths: undefined when the sandbox cannot be created, so
    // the caller falls back to runBatch, which retries the creation and reports
    // the failure per record.
    const getOrUndefined = async (): Promise<UdfSandbox | undefined> => {
      try {
        return await get();
      } catch {
        sandbox = undefined;
        return undefined;
      }
    };
    // The sandbox answers by input index; the plan wants each error with its record and meta, each output with its meta.
    const inBatch = (batch: Batch, r: { errors: { index: number; reason: string }[]; outIndex: number[] }, outputs: number) => {
      const errors = r.errors.map((e) => ({ nodeId, reason: e.reason, record: batch.rows[e.index], meta: batch.metas[e.index] }));
      const filtered = fn.form === "filter" ? batch.rows.length - outputs - errors.length : 0;
      return { errors, metas: r.outIndex.map((i) => batch.metas[i]), filtered };
    };
    return {
      form: fn.form,
      async runEncoded(values, check) {
        const s = await getOrUndefined();
        return s?.runEncoded(values, { check });
      },
      async runRowsEncoded(batch) {
        const s = await getOrUndefined();
        if (!s) return undefined;
        const r = await s.runRowsEncoded(batch.rows);
        return { values: r.values, ...inBatch(batch, r, r.values.length) };
      },
      async runBatch(batch) {
        let s: UdfSandbox;
        try {
          s = await get();
        } catch (e) {
          sandbox = undefined; // retry creation on the next batch
          const reason = `function cannot run: ${e instanceof Error ? e.message : String(e)}`;
          return { out: { rows: [], metas: [] }, errors: batch.rows.map((record, i) => ({ nodeId, reason, record, meta: batch.metas[i] })), filtered: 0 };
        }
        const r = await s.runBatch(batch.rows);
        const { errors, metas, filtered } = inBatch(batch, r, r.out.length);
        return { out: { rows: r.out, metas }, errors, filtered };
      },
      dispose() {
        disposed = true;
        void sandbox?.then(
          (s) => s.dispose(),
          () => undefined,
        );
      },
    };
  };
  return { diagnostics: built.diagnostics, outputSchema: built.outputSchema, op: { kind: "udf", nodeId, create: make } };
}

export function buildStatefulNode(node: NodeOfType<"window"> | NodeOfType<"udf">, input: StreamSchema, ctx: ValidationContext): Built<StatefulOp> {
  return node.type === "window" ? buildWindowNode(node, input) : buildUdfNode(node, input, ctx);
}
