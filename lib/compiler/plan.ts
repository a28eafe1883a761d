import type { FilterOp } from "@/lib/operators/filter";
import { runFilter } from "@/lib/operators/filter";
import type { ProjectionOp } from "@/lib/operators/projection";
import { runProjection } from "@/lib/operators/projection";
import type { SplitOp } from "@/lib/operators/split";
import { runSplit } from "@/lib/operators/split";
import type { Batch, NodeCounts, RecordError } from "@/lib/operators/types";
import { reasonOf, zeroCounts } from "@/lib/operators/types";
import type { UnionOp } from "@/lib/operators/union";
import { analyzePipeline, type ValidationContext } from "./analyze";
import { decodeRecord, encodeRecord } from "@/lib/pipeline/codec";
import { compileRecordCheck } from "@/lib/pipeline/record-check";
import type { Diagnostic } from "@/lib/pipeline/diagnostics";
import type { Pipeline, PipelineEdge } from "@/lib/pipeline/nodes";
import { DEFAULT_OUTPUT_PORT, nodeExpressions } from "@/lib/pipeline/nodes";
import { expressionLoops } from "@/lib/expr";
import { LATE_PORT, outputPorts } from "@/lib/pipeline/ports";
import type { UdfRuntime, WindowRuntime } from "./stateful";
import { buildWindow, WatermarkForwarder, type ForwardedWatermark, type PartitionId, type WatermarkCheck, type WatermarkMarker } from "@/lib/operators/window";
import type { WindowNodeConfig } from "@/lib/pipeline/nodes/window";
import { keyGroupOf } from "./key-groups";
import type { Row, StreamSchema } from "@/lib/pipeline/schema";
import { recordCheckSource } from "@/lib/udf/record-check-source";

/** Thrown by compilePipeline for a pipeline with errors; validatePipeline reports the same list without throwing. */
export class PipelineCompileError extends Error {
  override readonly name = "PipelineCompileError";
  constructor(readonly diagnostics: Diagnostic[]) {
    super(`pipeline has ${diagnostics.filter((d) => d.severity === "error").length} error(s): ${diagnostics.find((d) => d.severity === "error")?.message ?? ""}`);
  }
}

export interface CompileOptions {
  /**
   * Fuse chains of Filter/Projection nodes into one per-record loop (default).
   * Off, every node runs its batch function separately: the reference the
   * property tests hold the fused plan to.
   */
  fuse?: boolean;
  /**
   * Live preview of a graph still being built: a node whose output reaches no
   * Sink yet, or a graph without a Sink, is fine — its rows are shown, not
   * written. Every other error still refuses to compile.
   */
  partial?: boolean;
  /**
   * Check every decoded record against its Source stream's schema in
   * processEncoded; a record that does not conform becomes an error record at
   * the Source (dead-lettered by the runtime) instead of flowing on.
   */
  checkSourceSchema?: boolean;
  /**
   * The source partition of a record, from the meta the caller passed with it
   * (ProcessOptions.metas), as an id the caller also uses in
   * `assignPartitions` and source checks. Given, each Window keeps a watermark
   * per source partition (docs/runtime.md "Watermarks"): a partition that is
   * behind or not fetched yet holds windows open, and an idle one (caught up,
   * no record for the node's idleTimeout, 10 s by default) stops holding them.
   */
  partitionOf?: (meta: unknown) => PartitionId | undefined;
  /**
   * Keyed scale-out, the stage behind a repartition stream: its Window keeps
   * state per key group (ProcessOptions.keyGroup says a batch's) and takes
   * its watermark from upstream markers (Plan.upstreamWatermark).
   */
  keyGroups?: boolean;
  /**
   * Keyed scale-out, a stage before a repartition stream: these Sink nodes
   * write a Window's input. Each row's key (the Window's key) and partition
   * (its key group) are in PlanResult.sinkKeys/sinkPartitions, and the plan
   * keeps the watermark to forward (Plan.drainMarkers).
   */
  repartitions?: ReadonlyMap<string, { config: WindowNodeConfig; partitions: number }>;
}

/** A source check in progress (Plan.beginSourceCheck): each Window's view when it began. */
export type SourceCheck = ReadonlyMap<string, WatermarkCheck>;

/** A Sink whose stream does not exist yet (reported with the team's catalog, lib/pipelines/catalog-context.ts). */
export const SINK_STREAM_MISSING = "sink-stream-missing";
/**
 * Errors that only say the graph is unfinished (see CompileOptions.partial): a
 * preview runs despite them, as it writes to no Sink — so a Sink whose stream
 * is not created yet is fine there too.
 */
export const PARTIAL_GRAPH_CODES: ReadonlySet<string> = new Set(["dangling-node", "no-sink", SINK_STREAM_MISSING]);

export interface ProcessOptions {
  /** Opaque per-record handles (topic/partition/offset...), index-aligned with the rows. */
  metas?: unknown[];
  /** Keep every node's output rows, per port (live preview). */
  capture?: boolean;
  /** Processing time in epoch ms (defaults to Date.now()); windows use it for processing-time windows and early emits. */
  now?: number;
  /** With CompileOptions.keyGroups: the key group (repartition partition) every row of this call comes from. */
  keyGroup?: number;
}

export interface PlanResult {
  /** Rows each Sink node writes, in order. */
  sinks: Map<string, Row[]>;
  /** The metas of those rows, index-aligned. */
  sinkMetas: Map<string, unknown[]>;
  perNode: Map<string, NodeCounts>;
  errors: RecordError[];
  /** With `capture`: node id → port → output rows. */
  outputs?: Map<string, Map<string, Row[]>>;
  /** Repartition Sinks (CompileOptions.repartitions): each row's record key and partition, index-aligned with `sinks`. */
  sinkKeys?: Map<string, string[]>;
  sinkPartitions?: Map<string, number[]>;
}

type Inbox = { edge: PipelineEdge; batch: Batch }[];

interface RunState {
  /** Processing time of this run (windows on processing time, early emits). */
  now: number;
  counts: Map<string, NodeCounts>;
  errors: RecordError[];
  sinks: Map<string, Batch>;
  outputs?: Map<string, Map<string, Row[]>>;
  inboxes: Map<string, Inbox>;
  /** Set by processEncoded (without capture): Sink values written straight by encoded UDF tails. */
  encoded?: Map<string, Uint8Array[]>;
  keyGroup?: number;
  sinkKeys?: Map<string, string[]>;
  sinkPartitions?: Map<string, number[]>;
}

type Stage = FilterOp | ProjectionOp;

/** One executable step; a fused chain is one step covering several nodes. */
type Step =
  | { kind: "source"; nodeId: string }
  | { kind: "chain"; nodeId: string; stages: Stage[]; tail: string }
  | { kind: "filter"; nodeId: string; op: FilterOp }
  | { kind: "projection"; nodeId: string; op: ProjectionOp }
  | { kind: "split"; nodeId: string; op: SplitOp }
  | { kind: "union"; nodeId: string; op: UnionOp; inputIndex: Map<PipelineEdge, number> }
  | { kind: "window"; nodeId: string; op: WindowRuntime }
  | { kind: "udf"; nodeId: string; op: UdfRuntime }
  | { kind: "sink"; nodeId: string };

export interface Plan {
  /** Source node ids, and the stream each reads. */
  readonly sources: ReadonlyMap<string, string>;
  readonly sinks: ReadonlyMap<string, string>;
  /** Output schema of every node. */
  readonly schemas: Readonly<Record<string, StreamSchema>>;
  readonly diagnostics: readonly Diagnostic[];
  /** Executable steps in order, with the node ids each covers (fusion is visible here). */
  readonly steps: readonly { kind: string; nodes: string[] }[];
  /** Source → UDF → Sink routes that processEncoded runs on bytes (see encodedRoutes). */
  readonly encodedRoutes: readonly { source: string; udf: string; sinks: string[] }[];
  /** UDFs that only feed Sinks: in processEncoded their outputs go to the Sinks as the isolate encoded them (see encodedTails). */
  readonly encodedTails: readonly { udf: string; sinks: string[] }[];
  /**
   * Runs decoded records from one Source node (by id) or from every Source
   * reading a stream (by stream name) through the graph.
   */
  processBatch(source: string, rows: Row[], options?: ProcessOptions): Promise<PlanResult>;
  /** As processBatch, from Kafka value bytes to Kafka value bytes: one decode and one encode per record. */
  processEncoded(source: string, values: (Uint8Array | null)[], options?: ProcessOptions): Promise<PlanResult & { encoded: Map<string, Uint8Array[]> }>;
  /** True when the plan holds Window state (snapshot/restore/changes matter). */
  readonly stateful: boolean;
  /** True when watermarks depend on source partitions (event-time Windows, or repartition Sinks forwarding one): the task assigns partitions and runs source checks. */
  readonly watermarks: boolean;
  /**
   * True when an expression loops over record data (a CEL macro): a record can
   * then cost up to the expression budget (lib/expr/cost.ts), and the runtime
   * runs such plans in small slices (lib/runtime/batch-pacing.ts).
   */
  readonly expressionLoops: boolean;
  /**
   * Processing time passed without records: windows may close (idle timeout,
   * processing-time windows, early emits) and their results flow downstream.
   * With `source` (a check begun by beginSourceCheck and the partitions then
   * found caught up), idle partitions stop holding Window watermarks back.
   */
  advanceTime(now: number, options?: Pick<ProcessOptions, "capture"> & { source?: { check: SourceCheck; caughtUp: ReadonlySet<PartitionId> } }): Promise<PlanResult>;
  /**
   * The source partitions the task owns, per source stream (its assignment):
   * each Window fed by a stream holds its watermark back for every one of
   * them, fetched yet or not. Ids are those `partitionOf` returns.
   */
  assignPartitions(byStream: ReadonlyMap<string, readonly PartitionId[]>, now: number): void;
  /** Starts a source check: call it before reading the sources' end offsets, then pass it to advanceTime with the partitions found caught up. */
  beginSourceCheck(now: number): SourceCheck;
  /** Keyed scale-out (CompileOptions.keyGroups): the key groups this task owns; Window state of others is dropped. */
  assignKeyGroups(groups: readonly number[]): void;
  /** Keyed scale-out: a watermark marker read from key group `keyGroup`'s partition; windows it closes flow downstream. */
  upstreamWatermark(keyGroup: number, marker: WatermarkMarker, now: number): Promise<PlanResult>;
  /** Keyed scale-out: changed Window state per key group (→ that changelog partition) and node. */
  drainKeyGroupChanges(): Map<number, Map<string, unknown[]>>;
  restoreKeyGroup(keyGroup: number, changes: Map<string, unknown[]>): void;
  /** Keyed scale-out (CompileOptions.repartitions): the watermark markers due now, per repartition Sink. */
  drainMarkers(now: number): Map<string, ForwardedWatermark>;
  /** Closes every open window now and emits its result (end of a preview sample, end of a bounded run). */
  flush(options?: Pick<ProcessOptions, "capture">): Promise<PlanResult>;
  /** Window state by node id, for checkpoints. */
  snapshot(): Record<string, unknown>;
  restore(snapshots: Record<string, unknown>): void;
  /** Changed state entries per Window node since the last call (for a compacted changelog topic). */
  drainChanges(): Map<string, unknown[]>;
  restoreFromChanges(changes: Map<string, unknown[]>): void;
  /** Open windows over every Window node (0 for a stateless plan): the task's state size. */
  openWindows(): number;
  /** Releases UDF isolates. */
  dispose(): void;
}

/** push(...xs) passes every element as an argument and overflows the stack on large batches. */
function append<T>(target: T[], items: readonly T[]): void {
  for (let i = 0; i < items.length; i++) target.push(items[i]);
}

function captureRows(outputs: Map<string, Map<string, Row[]>>, nodeId: string, port: string, rows: Row[]) {
  const list = outputs.get(nodeId)?.get(port);
  if (list) for (const r of rows) list.push(r);
}

const isStage = (k: string) => k === "filter" || k === "projection";

/** Validated graph → executable plan. Throws PipelineCompileError when the pipeline has errors. */
export function compilePipeline(pipeline: Pipeline, ctx: ValidationContext, options: CompileOptions = {}): Plan {
  const analysis = analyzePipeline(pipeline, ctx);
  if (analysis.diagnostics.some((d) => d.severity === "error" && !(options.partial && PARTIAL_GRAPH_CODES.has(d.code)))) throw new PipelineCompileError(analysis.diagnostics);
  const fuse = options.fuse !== false;
  const { ops, incoming, outgoing, order } = analysis;

  // Fusion: a Filter/Projection whose only input is a Filter/Projection with no other consumer joins its chain.
  const chainOf = new Map<string, string>(); // node → chain head
  const chains = new Map<string, string[]>();
  for (const id of order) {
    const op = ops.get(id)!;
    if (!fuse || !isStage(op.kind)) continue;
    const ins = incoming.get(id)!;
    const prev = ins.length === 1 ? ins[0].source : undefined;
    if (prev !== undefined && chainOf.has(prev) && outgoing.get(prev)!.length === 1) {
      const head = chainOf.get(prev)!;
      chainOf.set(id, head);
      chains.get(head)!.push(id);
    } else {
      chainOf.set(id, id);
      chains.set(id, [id]);
    }
  }

  const steps: Step[] = [];
  const sources = new Map<string, string>();
  const sinks = new Map<string, string>();
  for (const id of order) {
    const op = ops.get(id)!;
    switch (op.kind) {
      case "source":
        sources.set(id, op.stream);
        steps.push({ kind: "source", nodeId: id });
        break;
      case "sink":
        sinks.set(id, op.stream);
        steps.push({ kind: "sink", nodeId: id });
        break;
      case "filter":
      case "projection":
        if (fuse) {
          if (chains.has(id)) {
            const members = chains.get(id)!;
            steps.push({ kind: "chain", nodeId: id, stages: members.map((m) => ops.get(m) as Stage), tail: members[members.length - 1] });
          }
        } else if (op.kind === "filter") steps.push({ kind: "filter", nodeId: id, op });
        else steps.push({ kind: "projection", nodeId: id, op });
        break;
      case "split":
        steps.push({ kind: "split", nodeId: id, op });
        break;
      case "union":
        steps.push({ kind: "union", nodeId: id, op, inputIndex: new Map(incoming.get(id)!.map((e, i) => [e, i])) });
        break;
      case "window":
        steps.push({ kind: "window", nodeId: id, op: op.create({ partitionOf: options.partitionOf, keyGroups: options.keyGroups }) });
        break;
      case "udf":
        steps.push({ kind: "udf", nodeId: id, op: op.create() });
        break;
    }
  }

  /**
   * Repartition Sinks: each row gets the target Window's key as its record key
   * and that key's group as its partition (a key that cannot be computed goes
   * under the empty key: the Window behind the stream reports the record as
   * its error), and — event time — the forwarder tracks the watermark of what
   * is written, per source partition.
   */
  const repartitionSinks = new Map<string, { forwarder: WatermarkForwarder; write: (state: RunState, batch: Batch) => void }>();
  for (const [sinkId, { config, partitions }] of options.repartitions ?? []) {
    const built = buildWindow(config, analysis.schemas[sinkId] ?? []);
    if (!built.deps) throw new PipelineCompileError(built.diagnostics.map((d) => ({ ...d, nodeId: sinkId, path: d.path ?? "" })) as Diagnostic[]);
    const { keyOf, eventTimeOf } = built.deps;
    const forwarder = new WatermarkForwarder(config);
    const partitionOf = options.partitionOf;
    repartitionSinks.set(sinkId, {
      forwarder,
      write(state, batch) {
        const keys = state.sinkKeys!.get(sinkId)!;
        const parts = state.sinkPartitions!.get(sinkId)!;
        for (let i = 0; i < batch.rows.length; i++) {
          const row = batch.rows[i];
          let key: string;
          try {
            key = keyOf(row);
            if (typeof key !== "string") key = "";
          } catch {
            key = "";
          }
          keys.push(key);
          parts.push(keyGroupOf(key, partitions));
          if (forwarder.enabled) {
            const id = partitionOf?.(batch.metas[i]);
            if (id !== undefined) forwarder.observe(id, eventTimeOf(row), state.now);
          }
        }
      },
    });
  }

  const deliver = (state: RunState, nodeId: string, port: string, batch: Batch) => {
    if (state.outputs) captureRows(state.outputs, nodeId, port, batch.rows);
    if (batch.rows.length === 0) return;
    for (const e of outgoing.get(nodeId)!) {
      if (e.sourcePort !== port) continue;
      state.inboxes.get(e.target)!.push({ edge: e, batch });
    }
  };
  const countsOf = (state: RunState, id: string) => state.counts.get(id)!;
  const single = (inbox: Inbox): Batch => {
    if (inbox.length === 1) return inbox[0].batch;
    const out: Batch = { rows: [], metas: [] };
    for (const { batch } of inbox) {
      append(out.rows, batch.rows);
      append(out.metas, batch.metas);
    }
    return out;
  };

  const runChain = (state: RunState, step: Extract<Step, { kind: "chain" }>, batch: Batch) => {
    const { stages } = step;
    const k = stages.length;
    const filtered = new Array<number>(k).fill(0);
    const errored = new Array<number>(k).fill(0);
    const captured = state.outputs ? stages.map((): Row[] => []) : undefined;
    const out: Batch = { rows: [], metas: [] };
    const { rows, metas } = batch;
    for (let i = 0; i < rows.length; i++) {
      let row: Row | undefined = rows[i];
      let s = 0;
      try {
        for (; s < k; s++) {
          const st = stages[s];
          if (st.kind === "filter") {
            if (!st.test(row)) {
              filtered[s]++;
              row = undefined;
              break;
            }
          } else row = st.project(row);
          if (captured) captured[s].push(row);
        }
      } catch (e) {
        errored[s]++;
        state.errors.push({ nodeId: stages[s].nodeId, reason: reasonOf(e), record: row, meta: metas[i] });
        continue;
      }
      if (row !== undefined) {
        out.rows.push(row);
        out.metas.push(metas[i]);
      }
    }
    let reaching = rows.length;
    stages.forEach((st, s) => {
      const c = countsOf(state, st.nodeId);
      c.in += reaching;
      c.filtered += filtered[s];
      c.errored += errored[s];
      reaching -= filtered[s] + errored[s];
      c.out += reaching;
      if (captured && state.outputs) captureRows(state.outputs, st.nodeId, DEFAULT_OUTPUT_PORT, captured[s]);
    });
    deliver({ ...state, outputs: undefined }, step.tail, DEFAULT_OUTPUT_PORT, out);
  };

  const emitWindow = (state: RunState, nodeId: string, r: { out: Batch; late: Batch; errors?: RecordError[] }) => {
    const c = countsOf(state, nodeId);
    if (r.errors) {
      c.errored += r.errors.length;
      append(state.errors, r.errors);
    }
    c.out += r.out.rows.length;
    c.late = (c.late ?? 0) + r.late.rows.length;
    deliver(state, nodeId, DEFAULT_OUTPUT_PORT, r.out);
    deliver(state, nodeId, LATE_PORT, r.late);
  };

  /**
   * A UDF whose only consumers are Sinks fed by nothing else, in
   * processEncoded: its outputs are written to those Sinks as the isolate
   * encoded them (UdfSandbox.runRowsEncoded), skipping the host's parse of
   * the output and its encode at the Sink. Rows read from those Sinks are
   * decoded on demand.
   */
  const encodedTails = new Map<string, string[]>();
  if (fuse) {
    for (const u of steps) {
      if (u.kind !== "udf") continue;
      const next = outgoing.get(u.nodeId)!;
      if (next.length > 0 && next.every((e) => e.sourcePort === DEFAULT_OUTPUT_PORT && sinks.has(e.target) && !repartitionSinks.has(e.target) && incoming.get(e.target)!.length === 1)) {
        encodedTails.set(u.nodeId, [...new Set(next.map((e) => e.target))]);
      }
    }
  }

  /** The object path: rows in, rows out to the UDF's consumers. */
  const runUdf = async (state: RunState, step: Extract<Step, { kind: "udf" }>, batch: Batch): Promise<void> => {
    const c = countsOf(state, step.nodeId);
    const r = await step.op.runBatch(batch);
    c.out += r.out.rows.length;
    c.filtered += r.filtered;
    c.errored += r.errors.length;
    append(state.errors, r.errors);
    deliver(state, step.nodeId, DEFAULT_OUTPUT_PORT, r.out);
  };

  const runEncodedTail = async (state: RunState, step: Extract<Step, { kind: "udf" }>, tail: string[], batch: Batch): Promise<void> => {
    const r = await step.op.runRowsEncoded(batch);
    // The function cannot run now: the object path reports that per record.
    if (!r) return runUdf(state, step, batch);
    const c = countsOf(state, step.nodeId);
    c.out += r.values.length;
    c.filtered += r.filtered;
    c.errored += r.errors.length;
    append(state.errors, r.errors);
    for (const k of tail) {
      const sc = countsOf(state, k);
      sc.in += r.values.length;
      sc.out += r.values.length;
      append(state.encoded!.get(k)!, r.values);
      append(state.sinks.get(k)!.metas, r.metas);
    }
  };

  // Returns a promise only for UDF steps: the stateless path never awaits.
  const execute = (state: RunState, step: Step): Promise<void> | undefined => {
    const inbox = state.inboxes.get(step.nodeId)!;
    if (step.kind === "source" || inbox.length === 0) return;
    const c = countsOf(state, step.nodeId);
    switch (step.kind) {
      case "window": {
        const batch = single(inbox);
        c.in += batch.rows.length;
        emitWindow(state, step.nodeId, step.op.process(batch, state.now, state.keyGroup));
        break;
      }
      case "udf": {
        const batch = single(inbox);
        c.in += batch.rows.length;
        const tail = state.encoded ? encodedTails.get(step.nodeId) : undefined;
        return tail ? runEncodedTail(state, step, tail, batch) : runUdf(state, step, batch);
      }
      case "chain":
        runChain(state, step, single(inbox));
        break;
      case "filter": {
        const batch = single(inbox);
        const r = runFilter(step.op, batch);
        Object.assign(c, { in: c.in + batch.rows.length, out: c.out + r.out.rows.length, filtered: c.filtered + r.filtered, errored: c.errored + r.errors.length });
        append(state.errors, r.errors);
        deliver(state, step.nodeId, DEFAULT_OUTPUT_PORT, r.out);
        break;
      }
      case "projection": {
        const batch = single(inbox);
        const r = runProjection(step.op, batch);
        Object.assign(c, { in: c.in + batch.rows.length, out: c.out + r.out.rows.length, errored: c.errored + r.errors.length });
        append(state.errors, r.errors);
        deliver(state, step.nodeId, DEFAULT_OUTPUT_PORT, r.out);
        break;
      }
      case "split": {
        const batch = single(inbox);
        const r = runSplit(step.op, batch);
        Object.assign(c, { in: c.in + batch.rows.length, out: c.out + r.emitted, filtered: c.filtered + r.dropped, errored: c.errored + r.errors.length });
        append(state.errors, r.errors);
        step.op.ports.forEach((p, i) => deliver(state, step.nodeId, p, r.outs[i]));
        break;
      }
      case "union": {
        // Inputs in edge order, so output order is deterministic for a given batch.
        const sorted = [...inbox].sort((a, b) => step.inputIndex.get(a.edge)! - step.inputIndex.get(b.edge)!);
        const out: Batch = { rows: [], metas: [] };
        for (const { edge, batch } of sorted) {
          const aligned = step.op.align(step.inputIndex.get(edge)!, batch);
          for (let i = 0; i < aligned.rows.length; i++) {
            out.rows.push(aligned.rows[i]);
            out.metas.push(aligned.metas[i]);
          }
        }
        c.in += out.rows.length;
        c.out += out.rows.length;
        deliver(state, step.nodeId, DEFAULT_OUTPUT_PORT, out);
        break;
      }
      case "sink": {
        const batch = single(inbox);
        c.in += batch.rows.length;
        c.out += batch.rows.length;
        const acc = state.sinks.get(step.nodeId)!;
        for (let i = 0; i < batch.rows.length; i++) {
          acc.rows.push(batch.rows[i]);
          acc.metas.push(batch.metas[i]);
        }
        const r = repartitionSinks.get(step.nodeId);
        if (r) r.write(state, batch);
        if (state.outputs) captureRows(state.outputs, step.nodeId, DEFAULT_OUTPUT_PORT, batch.rows);
        break;
      }
    }
  };

  const resolveSources = (source: string): string[] => {
    if (sources.has(source)) return [source];
    const ids = [...sources].filter(([, stream]) => stream === source).map(([id]) => id);
    if (ids.length === 0) throw new Error(`this pipeline has no source node or stream named "${source}"`);
    return ids;
  };

  const newState = (capture: boolean, now: number, keyGroup?: number): RunState => ({
    now,
    keyGroup,
    ...(repartitionSinks.size
      ? { sinkKeys: new Map([...repartitionSinks.keys()].map((id) => [id, []])), sinkPartitions: new Map([...repartitionSinks.keys()].map((id) => [id, []])) }
      : {}),
    counts: new Map([...ops.keys()].map((id) => [id, zeroCounts()])),
    errors: [],
    sinks: new Map([...sinks.keys()].map((id) => [id, { rows: [], metas: [] }])),
    // Every node and port is present, empty when nothing reached it, so the preview can show "0 records".
    outputs: capture
      ? new Map([...analysis.nodes.values()].map((n) => [n.id, new Map((n.type === "sink" ? [DEFAULT_OUTPUT_PORT] : outputPorts(n)).map((p): [string, Row[]] => [p, []]))]))
      : undefined,
    inboxes: new Map([...ops.keys()].map((id) => [id, []])),
  });

  const finish = (state: RunState): PlanResult => ({
    // A Sink fed by an encoded tail got values only (rows stay empty there).
    sinks: new Map([...state.sinks].map(([id, b]) => [id, state.encoded?.get(id)?.length ? decodeOnRead(state.encoded.get(id)!) : b.rows])),
    sinkMetas: new Map([...state.sinks].map(([id, b]) => [id, b.metas])),
    perNode: state.counts,
    errors: state.errors,
    ...(state.outputs ? { outputs: state.outputs } : {}),
    ...(state.sinkKeys ? { sinkKeys: state.sinkKeys, sinkPartitions: state.sinkPartitions } : {}),
  });

  const drain = async (state: RunState): Promise<PlanResult> => {
    for (const step of steps) {
      const pending = execute(state, step);
      if (pending) await pending;
    }
    return finish(state);
  };

  const run = (sourceIds: string[], batch: Batch, decodeErrors: RecordError[], state: RunState): Promise<PlanResult> => {
    for (const id of sourceIds) {
      const c = countsOf(state, id);
      c.in += batch.rows.length + decodeErrors.length;
      c.out += batch.rows.length;
      c.errored += decodeErrors.length;
      deliver(state, id, DEFAULT_OUTPUT_PORT, batch);
    }
    append(state.errors, decodeErrors);
    return drain(state);
  };

  // One compiled checker per Source, built once per plan (see CompileOptions.checkSourceSchema).
  const sourceChecks = new Map([...sources.keys()].map((id) => [id, compileRecordCheck(analysis.schemas[id] ?? [])]));

  const windowSteps = steps.filter((s): s is Extract<Step, { kind: "window" }> => s.kind === "window");
  /** The source streams whose records can reach each Window: only their partitions hold its watermark. */
  const upstreamStreams = new Map<string, Set<string>>();
  const streamsReaching = (id: string, seen = new Set<string>()): Set<string> => {
    const out = new Set<string>();
    if (seen.has(id)) return out;
    seen.add(id);
    if (sources.has(id)) out.add(sources.get(id)!);
    for (const e of incoming.get(id) ?? []) for (const s of streamsReaching(e.source, seen)) out.add(s);
    return out;
  };
  for (const w of windowSteps) upstreamStreams.set(w.nodeId, streamsReaching(w.nodeId));
  for (const id of repartitionSinks.keys()) upstreamStreams.set(id, streamsReaching(id));
  const udfSteps = steps.filter((s): s is Extract<Step, { kind: "udf" }> => s.kind === "udf");

  const metasFor = (n: number, given?: unknown[]) => given ?? new Array<unknown>(n).fill(undefined);

  /**
   * Encoded routes: a Source whose only consumer is a UDF whose only consumers
   * are Sinks (fed by nothing else). There the host never needs the records as
   * objects — the isolate parses the Kafka values and hands back the output
   * values (UdfSandbox.runEncoded), which is most of a UDF pipeline's cost
   * saved (docs/benchmarks.md). Any other shape, capture (preview) and
   * processBatch take the object path; `fuse: false` turns this off too, so
   * the unfused plan stays the reference the property tests compare against.
   */
  const encodedRoutes = new Map<string, { udf: Extract<Step, { kind: "udf" }>; sinks: string[] }>();
  if (fuse) {
    for (const sourceId of sources.keys()) {
      const outs = outgoing.get(sourceId)!;
      if (outs.length !== 1 || outs[0].sourcePort !== DEFAULT_OUTPUT_PORT) continue;
      const udf = udfSteps.find((u) => u.nodeId === outs[0].target);
      if (!udf || incoming.get(udf.nodeId)!.length !== 1) continue;
      const next = outgoing.get(udf.nodeId)!;
      const toSinks = next.length > 0 && next.every((e) => e.sourcePort === DEFAULT_OUTPUT_PORT && sinks.has(e.target) && !repartitionSinks.has(e.target) && incoming.get(e.target)!.length === 1);
      if (toSinks) encodedRoutes.set(sourceId, { udf, sinks: [...new Set(next.map((e) => e.target))] });
    }
  }
  const sourceCheckTexts = new Map([...encodedRoutes.keys()].map((id) => [id, options.checkSourceSchema ? recordCheckSource(analysis.schemas[id] ?? []) : null]));

  /** The encoded route's run; undefined when the function cannot run now (the object path then reports it per record). */
  const runEncodedRoute = async (sourceId: string, values: (Uint8Array | null)[], metas: unknown[], now: number): Promise<(PlanResult & { encoded: Map<string, Uint8Array[]> }) | undefined> => {
    const route = encodedRoutes.get(sourceId)!;
    const udfId = route.udf.nodeId;
    const res = await route.udf.op.runEncoded(values, sourceCheckTexts.get(sourceId)!);
    if (!res) return undefined;
    const state = newState(false, now);
    const sourceErrors: RecordError[] = [];
    const udfErrors: { index: number; error: RecordError }[] = [];
    const check = options.checkSourceSchema ? sourceChecks.get(sourceId) : undefined;
    // The isolate only says which values it could not read; the reasons come from the host's own decode and check, as on the object path.
    for (const i of res.unread) {
      const d = decodeRecord(values[i]);
      if (!d.ok) {
        sourceErrors.push({ nodeId: sourceId, reason: d.reason, record: d.text, meta: metas[i] });
        continue;
      }
      const problems = check?.(d.row);
      if (problems?.length) {
        sourceErrors.push({ nodeId: sourceId, reason: `record does not match the schema of stream "${sources.get(sourceId)}": ${problems.join("; ")}`, record: d.row, meta: metas[i] });
        continue;
      }
      // Readable here but not in the isolate: only a function that broke the runner's built-ins gets here.
      udfErrors.push({ index: i, error: { nodeId: udfId, reason: "function could not read this record (did it modify built-in objects?)", record: d.row, meta: metas[i] } });
    }
    for (const e of res.errors) {
      const d = decodeRecord(values[e.index]);
      udfErrors.push({ index: e.index, error: { nodeId: udfId, reason: e.reason, record: d.ok ? d.row : d.text, meta: metas[e.index] } });
    }
    if (res.unread.length > sourceErrors.length) udfErrors.sort((a, b) => a.index - b.index);
    const src = countsOf(state, sourceId);
    src.in = values.length;
    src.errored = sourceErrors.length;
    src.out = values.length - sourceErrors.length;
    const u = countsOf(state, udfId);
    u.in = src.out;
    u.out = res.values.length;
    u.errored = udfErrors.length;
    u.filtered = route.udf.op.form === "filter" ? u.in - u.out - u.errored : 0;
    const outMetas = res.outIndex.map((i) => metas[i]);
    const encoded = new Map<string, Uint8Array[]>();
    const sinkRows = new Map<string, Row[]>();
    const sinkMetas = new Map<string, unknown[]>();
    route.sinks.forEach((k, n) => {
      const c = countsOf(state, k);
      c.in = c.out = res.values.length;
      const own = n === 0 ? res.values : res.values.slice();
      encoded.set(k, own);
      sinkRows.set(k, decodeOnRead(own));
      sinkMetas.set(k, n === 0 ? outMetas : outMetas.slice());
    });
    for (const k of sinks.keys()) {
      if (!sinkRows.has(k)) {
        sinkRows.set(k, []);
        sinkMetas.set(k, []);
        encoded.set(k, []);
      }
    }
    const errors = sourceErrors;
    for (const e of udfErrors) errors.push(e.error);
    return { sinks: sinkRows, sinkMetas, perNode: state.counts, errors, encoded };
  };

  const decodeAndRun = async (ids: string[], values: (Uint8Array | null)[], metas: unknown[], opts: ProcessOptions): Promise<PlanResult & { encoded: Map<string, Uint8Array[]> }> => {
    const batch: Batch = { rows: [], metas: [] };
    const bad: RecordError[] = [];
    const check = options.checkSourceSchema ? sourceChecks.get(ids[0]) : undefined;
    for (let i = 0; i < values.length; i++) {
      const d = decodeRecord(values[i]);
      if (!d.ok) {
        bad.push({ nodeId: ids[0], reason: d.reason, record: d.text, meta: metas[i] });
        continue;
      }
      const problems = check?.(d.row);
      if (problems?.length) {
        bad.push({ nodeId: ids[0], reason: `record does not match the schema of stream "${sources.get(ids[0])}": ${problems.join("; ")}`, record: d.row, meta: metas[i] });
        continue;
      }
      batch.rows.push(d.row);
      batch.metas.push(metas[i]);
    }
    const state = newState(opts.capture === true, opts.now ?? Date.now(), opts.keyGroup);
    // The preview (capture) wants every node's rows, so it keeps the object path throughout.
    if (!opts.capture && encodedTails.size > 0) state.encoded = new Map([...encodedTails.values()].flat().map((k) => [k, []]));
    const result = await run(ids, batch, bad, state);
    const encoded = new Map<string, Uint8Array[]>();
    for (const [id, rows] of result.sinks) {
      const values = state.encoded?.get(id);
      encoded.set(id, values?.length ? values : rows.map(encodeRecord));
    }
    return { ...result, encoded };
  };

  // Only UDF steps await, so only then could two calls interleave; queue them so
  // Window state sees batches whole and in call order.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    if (udfSteps.length === 0) return work();
    const next = tail.then(work);
    tail = next.catch(() => undefined);
    return next;
  };

  return {
    sources,
    sinks,
    schemas: analysis.schemas,
    diagnostics: analysis.diagnostics,
    steps: steps.map((s) => ({ kind: s.kind, nodes: s.kind === "chain" ? s.stages.map((x) => x.nodeId) : [s.nodeId] })),
    encodedRoutes: [...encodedRoutes].map(([source, r]) => ({ source, udf: r.udf.nodeId, sinks: r.sinks })),
    encodedTails: [...encodedTails].map(([udf, tailSinks]) => ({ udf, sinks: tailSinks })),
    stateful: windowSteps.length > 0,
    watermarks: windowSteps.length > 0 || [...repartitionSinks.values()].some((r) => r.forwarder.enabled),
    expressionLoops: pipeline.nodes.some((n) => nodeExpressions(n).some(expressionLoops)),
    async processBatch(source, rows, opts = {}) {
      const ids = resolveSources(source);
      return serial(() => run(ids, { rows, metas: metasFor(rows.length, opts.metas) }, [], newState(opts.capture === true, opts.now ?? Date.now(), opts.keyGroup)));
    },
    advanceTime(now, opts = {}) {
      return serial(() => {
        const state = newState(opts.capture === true, now);
        for (const w of windowSteps) {
          const check = opts.source?.check.get(w.nodeId);
          emitWindow(state, w.nodeId, w.op.advanceTime(now, check ? { check, caughtUp: opts.source!.caughtUp } : undefined));
        }
        for (const [id, r] of repartitionSinks) {
          const check = opts.source?.check.get(id);
          if (check) r.forwarder.completeCheck(check, opts.source!.caughtUp, now);
        }
        return drain(state);
      });
    },
    assignPartitions(byStream, now) {
      for (const w of windowSteps) {
        const ids: PartitionId[] = [];
        for (const stream of upstreamStreams.get(w.nodeId)!) for (const id of byStream.get(stream) ?? []) ids.push(id);
        w.op.assignPartitions(ids, now);
      }
      for (const [id, r] of repartitionSinks) {
        if (!r.forwarder.enabled) continue;
        const ids: PartitionId[] = [];
        for (const stream of upstreamStreams.get(id)!) for (const p of byStream.get(stream) ?? []) ids.push(p);
        r.forwarder.assign(ids, now);
      }
    },
    beginSourceCheck(now) {
      const checks = new Map<string, WatermarkCheck>();
      for (const w of windowSteps) {
        const c = w.op.beginSourceCheck(now);
        if (c) checks.set(w.nodeId, c);
      }
      for (const [id, r] of repartitionSinks) if (r.forwarder.enabled) checks.set(id, r.forwarder.beginCheck(now));
      return checks;
    },
    assignKeyGroups(groups) {
      for (const w of windowSteps) w.op.assignKeyGroups(groups);
    },
    upstreamWatermark(keyGroup, marker, now) {
      return serial(() => {
        const state = newState(false, now, keyGroup);
        for (const w of windowSteps) emitWindow(state, w.nodeId, w.op.upstreamWatermark(keyGroup, marker));
        return drain(state);
      });
    },
    drainKeyGroupChanges() {
      const out = new Map<number, Map<string, unknown[]>>();
      for (const w of windowSteps) {
        for (const [g, changes] of w.op.drainKeyGroups()) {
          let m = out.get(g);
          if (!m) out.set(g, (m = new Map()));
          m.set(w.nodeId, changes);
        }
      }
      return out;
    },
    restoreKeyGroup(keyGroup, changes) {
      for (const w of windowSteps) w.op.restoreKeyGroup(keyGroup, changes.get(w.nodeId) ?? []);
    },
    drainMarkers(now) {
      const out = new Map<string, ForwardedWatermark>();
      for (const [id, r] of repartitionSinks) {
        const m = r.forwarder.due(now);
        if (m) out.set(id, m);
      }
      return out;
    },
    flush(opts = {}) {
      return serial(() => {
        const state = newState(opts.capture === true, Date.now());
        for (const w of windowSteps) emitWindow(state, w.nodeId, w.op.flush());
        return drain(state);
      });
    },
    snapshot() {
      return Object.fromEntries(windowSteps.map((w) => [w.nodeId, w.op.snapshot()]));
    },
    restore(snapshots) {
      for (const w of windowSteps) if (snapshots[w.nodeId] !== undefined) w.op.restore(snapshots[w.nodeId]);
    },
    drainChanges() {
      return new Map(windowSteps.map((w) => [w.nodeId, w.op.drainChanges()]));
    },
    restoreFromChanges(changes) {
      for (const w of windowSteps) {
        const c = changes.get(w.nodeId);
        if (c) w.op.restoreFromChanges(c);
      }
    },
    openWindows() {
      let n = 0;
      for (const w of windowSteps) n += w.op.openWindows();
      return n;
    },
    dispose() {
      for (const u of udfSteps) u.op.dispose();
    },
    async processEncoded(source, values, opts = {}) {
      const ids = resolveSources(source);
      const metas = metasFor(values.length, opts.metas);
      const fused = !opts.capture && ids.length === 1 && encodedRoutes.has(ids[0]);
      return serial(async () => (fused && (await runEncodedRoute(ids[0], values, metas, opts.now ?? Date.now()))) || decodeAndRun(ids, values, metas, opts));
    },
  };
}

const textDecoder = new TextDecoder();

/**
 * Sink rows of an encoded route: the runtime writes the encoded values and
 * never reads these, so each row is decoded only when something does (a test,
 * a fallback encoder), then kept.
 */
function decodeOnRead(values: readonly Uint8Array[]): Row[] {
  const rows = new Array<Row | undefined>(values.length).fill(undefined);
  return new Proxy(rows, {
    get(target, key, receiver) {
      if (typeof key === "string") {
        const i = Number(key);
        if (Number.isInteger(i) && i >= 0 && i < target.length && String(i) === key) return (target[i] ??= JSON.parse(textDecoder.decode(values[i])) as Row);
      }
      return Reflect.get(target, key, receiver);
    },
  }) as Row[];
}
