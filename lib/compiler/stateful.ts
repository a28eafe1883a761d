import { buildWindow, UpstreamWatermarks, type PartitionId, type UpstreamState, type WatermarkCheck, type WatermarkMarker, type WindowOperator } from "@/lib/operators/window";
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
type WindowOutput = { out: Batch; late: Batch; errors: RecordError[] };

export interface WindowRuntime {
  /** `keyGroup`: the key group (repartition partition) of the batch, with key groups. */
  process(batch: Batch, now: number, keyGroup?: number): WindowOutput;
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
  /** With key groups: the groups the task owns now (state of others is dropped: another task owns it). */
  assignKeyGroups(groups: readonly number[]): void;
  /** With key groups: a watermark marker read from a key group's repartition partition. */
  upstreamWatermark(keyGroup: number, marker: WatermarkMarker): WindowOutput;
  /** With key groups: changed state per key group since the last drain (for that changelog partition). */
  drainKeyGroups(): Map<number, unknown[]>;
  restoreKeyGroup(keyGroup: number, changes: unknown[]): void;
  /** Open windows (keys × panes/sessions) held in state: the Monitor's "window state size". */
  openWindows(): number;
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
  /**
   * Keyed scale-out: the node is the head of a stage behind a repartition
   * stream. It keeps one operator per key group it owns (a partition of that
   * stream), each with its own state, changelog partition and watermark
   * from the upstream tasks' markers.
   */
  keyGroups?: boolean;
}

export type StatefulOp = { kind: "window"; nodeId: string; create: (options?: WindowRuntimeOptions) => WindowRuntime } | { kind: "udf"; nodeId: string; create: () => UdfRuntime };

/** The changelog entry of a key group's upstream markers (beside the Window's own entries). */
const UPSTREAM_KEY = "U:upstream";

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
  const outputOf = (batch: Batch, r: { out: Row[]; late: Row[]; errors: { row: Row; reason: string }[] }): WindowOutput => ({
    out: noMetas(r.out),
    late: { rows: r.late, metas: metasOf(batch, r.late) },
    errors: errorsOf(batch, r.errors),
  });
  const merge = (parts: WindowOutput[]): WindowOutput => ({
    out: { rows: parts.flatMap((p) => p.out.rows), metas: parts.flatMap((p) => p.out.metas) },
    late: { rows: parts.flatMap((p) => p.late.rows), metas: parts.flatMap((p) => p.late.metas) },
    errors: parts.flatMap((p) => p.errors),
  });
  const unsupported = (what: string) => () => {
    throw new Error(`Window "${nodeId}" ${what}`);
  };

  /** One operator per key group; its watermark comes from the upstream tasks' markers (event time). */
  const makeGrouped = (): WindowRuntime => {
    const eventTime = node.config.timeField !== undefined;
    interface Group {
      op: WindowOperator;
      upstream: UpstreamWatermarks;
      upstreamChanged: boolean;
      touched: boolean;
    }
    const groups = new Map<number, Group>();
    const group = (g: number): Group => {
      let x = groups.get(g);
      if (!x) {
        x = { op: create(eventTime ? { watermarks: "external" } : undefined), upstream: new UpstreamWatermarks(), upstreamChanged: false, touched: true };
        groups.set(g, x);
      }
      return x;
    };
    const empty: Batch = { rows: [], metas: [] };
    const none: WindowOutput = { out: empty, late: empty, errors: [] };
    return {
      process(batch, now, keyGroup) {
        const x = group(keyGroup ?? 0);
        x.touched = true;
        return outputOf(batch, x.op.process(batch.rows, now));
      },
      advanceTime(now) {
        const parts: WindowOutput[] = [];
        for (const x of groups.values()) {
          const r = x.op.advanceTime(now);
          if (r.out.length || r.errors.length) x.touched = true;
          parts.push(outputOf(empty, r));
        }
        return merge(parts);
      },
      upstreamWatermark(keyGroup, marker) {
        const x = group(keyGroup);
        if (!x.upstream.observe(marker)) return none;
        x.upstreamChanged = true;
        x.touched = true;
        const w = x.upstream.current();
        return w === undefined ? none : { out: noMetas(x.op.onWatermark(w)), late: empty, errors: [] };
      },
      openWindows() {
        let n = 0;
        for (const x of groups.values()) n += x.op.stats().openWindows;
        return n;
      },
      assignKeyGroups(keep) {
        const owned = new Set(keep);
        for (const g of [...groups.keys()]) if (!owned.has(g)) groups.delete(g);
        for (const g of owned) group(g);
      },
      drainKeyGroups() {
        const out = new Map<number, unknown[]>();
        for (const [g, x] of groups) {
          if (!x.touched) continue;
          const changes: unknown[] = x.op.drainChanges();
          if (x.upstreamChanged) changes.push({ key: UPSTREAM_KEY, value: x.upstream.snapshot() });
          x.touched = false;
          x.upstreamChanged = false;
          out.set(g, changes);
        }
        return out;
      },
      restoreKeyGroup(keyGroup, changes) {
        const x = group(keyGroup);
        const own = (changes as { key: string; value: unknown }[]).filter((c) => c.key !== UPSTREAM_KEY);
        const upstream = (changes as { key: string; value: unknown }[]).filter((c) => c.key === UPSTREAM_KEY).at(-1);
        x.op.restoreFromChanges(own);
        x.upstream.restore((upstream?.value ?? undefined) as UpstreamState | undefined);
        x.touched = false;
      },
      flush() {
        return merge([...groups.values()].map((x) => ({ out: noMetas(x.op.flush()), late: empty, errors: [] })));
      },
      snapshot: () => Object.fromEntries([...groups].map(([g, x]) => [g, { window: x.op.snapshot(), upstream: x.upstream.snapshot() }])),
      restore(snapshot) {
        groups.clear();
        for (const [g, v] of Object.entries(snapshot as Record<string, { window: unknown; upstream: UpstreamState }>)) {
          const x = group(Number(g));
          x.op.restore(v.window as Parameters<WindowOperator["restore"]>[0]);
          x.upstream.restore(v.upstream);
        }
      },
      drainChanges: unsupported("keeps its state per key group: use drainKeyGroups"),
      restoreFromChanges: unsupported("keeps its state per key group: use restoreKeyGroup"),
      assignPartitions: () => undefined,
      beginSourceCheck: () => undefined,
    };
  };

  const make = ({ partitionOf, keyGroups }: WindowRuntimeOptions = {}): WindowRuntime => {
    if (keyGroups) return makeGrouped();
    const op = create(partitionOf ? { watermarks: "partitioned" } : undefined);
    const empty: Batch = { rows: [], metas: [] };
    return {
      assignKeyGroups: unsupported("has no key groups (its pipeline runs in one stage)"),
      upstreamWatermark: unsupported("has no key groups (its pipeline runs in one stage)"),
      drainKeyGroups: () => new Map(),
      restoreKeyGroup: unsupported("has no key groups (its pipeline runs in one stage)"),
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
      openWindows: () => op.stats().openWindows,
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
