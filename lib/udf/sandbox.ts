import ivm from "isolated-vm";
import type { UdfForm } from "@/lib/pipeline/nodes/udf";
import type { Row } from "@/lib/pipeline/schema";
import { joinValues, splitEncodedOutput } from "./encoded";
import { RUNNER_SOURCE } from "./runner";

/**
 * A user's JavaScript function running in its own V8 isolate (isolated-vm):
 * no require, process, fs, network or timers exist there; the heap is capped
 * at `memoryMb`; every call into the isolate (a chunk of up to CHUNK_ROWS
 * records) has a `timeoutMs` budget.
 *
 * Failure handling, all per record so one bad record never costs the batch:
 * - throws or wrong shape: the runner inside the isolate turns it into an error;
 * - time limit: the isolate is interrupted, the record it was running gets the
 *   error and the batch resumes after it with a fresh budget — at most
 *   MAX_TIMEOUTS_PER_BATCH times per chunk, then the rest of the chunk errors, so
 *   a chunk never takes longer than (MAX_TIMEOUTS_PER_BATCH + 1) × timeoutMs;
 * - memory limit: V8 disposes the isolate; a fresh one reruns the batch in
 *   halves until the record that exhausts memory is alone, and it errors.
 * The isolate is recreated lazily after any failure that spoils it; `dispose`
 * (or garbage collection of a forgotten sandbox) releases it.
 */
export const MAX_TIMEOUTS_PER_BATCH = 3;

export interface UdfLimits {
  memoryMb: number;
  timeoutMs: number;
}

export interface UdfRecordError {
  index: number;
  reason: string;
}

export interface UdfBatchResult {
  /** map: one row per successful input; flatMap: 0..n per input; filter: the kept input rows themselves. */
  out: Row[];
  /** For each `out` row, the index of the input row it came from (for source metadata and lineage). */
  outIndex: number[];
  errors: UdfRecordError[];
}

export interface UdfEncodedResult {
  /** UTF-8 JSON object values: map's and flatMap's records as the function returned them; filter's kept inputs, re-encoded as the object path encodes them. */
  values: Uint8Array[];
  /** For each value, the index of the input value it came from. */
  outIndex: number[];
  errors: UdfRecordError[];
  /** Inputs that never reached the function (see runEncoded), ascending. */
  unread: number[];
}

/** One batch through the isolate in chunks: how a chunk's input is built and sent, and how its output is applied. */
interface Job {
  n: number;
  input(lo: number, hi: number): string | Error;
  call(inst: Instance, input: string, lo: number, hi: number): Promise<string | null>;
  /** Applies the runner's output for [lo, hi); false when it is malformed (then nothing was applied). */
  apply(text: string, lo: number, hi: number): boolean;
  /** Where failures of whole ranges (time, memory, malformed output) are recorded. */
  errors: UdfRecordError[];
}

export class UdfCompileError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = "UdfCompileError";
  }
}

let live = 0;

/** Isolates currently alive across all sandboxes (for leak tests and worker metrics). */
export function liveIsolates(): number {
  return live;
}

interface Instance {
  isolate: ivm.Isolate;
  context: ivm.Context;
  begin: ivm.Reference<(json: string) => string>;
  beginEncoded: ivm.Reference<(text: string, n: number) => string>;
  setCheck: ivm.Reference<(body: string | null) => void>;
  /** The source check installed in this isolate (record-check-source.ts), null for none. */
  check: string | null;
  where: ivm.Reference<() => number>;
  resume: ivm.Reference<(why: string) => string>;
  abort: ivm.Reference<(whyCurrent: string, whyRest: string) => string | null>;
  released: boolean;
}

function release(inst: Instance) {
  if (inst.released) return;
  inst.released = true;
  live--;
  if (!inst.isolate.isDisposed) inst.isolate.dispose();
}

// A sandbox dropped without dispose() still gives its isolate back.
const finalizer = new FinalizationRegistry<{ inst: Instance | null }>((holder) => {
  if (holder.inst) release(holder.inst);
});

const TIMED_OUT = /timed out/i;

/** Rows per isolate call: small enough to pipeline host and isolate work, large enough to amortise the crossing. */
export const CHUNK_ROWS = 512;

interface Attempt {
  inst: Instance | null;
  call: Promise<string | null>;
}

/** Rows [lo, hi) as JSON texts joined by U+0001 (JSON.stringify escapes control characters, so none is inside a text). */
function joinRows(rows: readonly Row[], lo: number, hi: number): string | Error {
  try {
    let text = JSON.stringify(rows[lo]);
    for (let i = lo + 1; i < hi; i++) text += "\u0001" + JSON.stringify(rows[i]);
    return text;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

function encodeInput(rows: readonly Row[], lo: number, hi: number): string | Error {
  try {
    return JSON.stringify(lo === 0 && hi === rows.length ? rows : rows.slice(lo, hi));
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/** Line and column of a compile error, from isolated-vm's "[<isolate>:line:col]" suffix. */
function location(e: unknown): { message: string; line?: number; column?: number } {
  const text = e instanceof Error ? e.message : String(e);
  const m = /\[udf\.js:(\d+):(\d+)\]$/.exec(text);
  const message = text.replace(/\s*\[udf\.js:\d+:\d+\]$/, "");
  // The user's source starts on line 2 of the wrapper script.
  return m ? { message, line: Math.max(1, Number(m[1]) - 1), column: Number(m[2]) } : { message };
}

async function instantiate(source: string, form: UdfForm, limits: UdfLimits): Promise<Instance> {
  const isolate = new ivm.Isolate({ memoryLimit: limits.memoryMb });
  live++;
  const inst = { isolate, released: false } as Instance;
  try {
    const context = await isolate.createContext();
    inst.context = context;
    (await isolate.compileScript(RUNNER_SOURCE, { filename: "runner.js" })).runSync(context, { timeout: 1_000 });
    const g = context.global;
    inst.begin = g.getSync("__udf_begin", { reference: true });
    inst.beginEncoded = g.getSync("__udf_begin_encoded", { reference: true });
    inst.setCheck = g.getSync("__udf_check", { reference: true });
    inst.check = null;
    inst.where = g.getSync("__udf_where", { reference: true });
    inst.resume = g.getSync("__udf_resume", { reference: true });
    inst.abort = g.getSync("__udf_abort", { reference: true });
    let script: ivm.Script;
    try {
      script = await isolate.compileScript(`__udf_set((\n${source}\n), ${JSON.stringify(form)});`, { filename: "udf.js" });
    } catch (e) {
      const l = location(e);
      throw new UdfCompileError(l.message, l.line, l.column);
    }
    try {
      await script.run(context, { timeout: limits.timeoutMs });
    } catch (e) {
      if (isolate.isDisposed) throw new UdfCompileError(`setting up the function exhausted its memory limit of ${limits.memoryMb} MB`);
      if (TIMED_OUT.test(String(e))) throw new UdfCompileError(`setting up the function took longer than ${limits.timeoutMs} ms`);
      throw new UdfCompileError(location(e).message);
    }
    return inst;
  } catch (e) {
    release(inst);
    throw e;
  }
}

export class UdfSandbox {
  private inst: Instance | null;
  private readonly holder: { inst: Instance | null };
  private disposed = false;
  private queue: Promise<void> = Promise.resolve();
  /** Isolates created over this sandbox's life (1 + recreations after memory exhaustion or corruption). */
  isolatesCreated = 1;

  private constructor(
    private readonly source: string,
    readonly form: UdfForm,
    readonly limits: UdfLimits,
    inst: Instance,
  ) {
    this.inst = inst;
    this.holder = { inst };
    finalizer.register(this, this.holder, this);
  }

  /** Compiles the function in a fresh isolate; throws UdfCompileError for a syntax error or a source that is not a function. */
  static async create(source: string, form: UdfForm, limits: UdfLimits): Promise<UdfSandbox> {
    return new UdfSandbox(source, form, limits, await instantiate(source, form, limits));
  }

  /** Heap statistics of the current isolate (undefined while none is alive). */
  heapStatistics(): ivm.HeapStatistics | undefined {
    const inst = this.inst;
    return inst && !inst.isolate.isDisposed ? inst.isolate.getHeapStatisticsSync() : undefined;
  }

  /**
   * Runs the function over a batch. Large batches go in chunks, pipelined: the
   * host encodes chunk k+1 and decodes chunk k-1 while the isolate (on its own
   * thread) runs chunk k. Only one call is ever in flight, so failure recovery
   * always sees the isolate state of the chunk that failed.
   */
  runBatch(rows: readonly Row[]): Promise<UdfBatchResult> {
    return this.enqueue(() => this.runRows(rows));
  }

  /**
   * The encoded path: runs the function over Kafka record values (UTF-8 JSON
   * objects) and returns its outputs as UTF-8 JSON values, without the host
   * ever parsing an input or stringifying an output. The batch crosses as one
   * string of the values' texts and comes back as one string of output lines
   * (runner.ts, ENCODED), split here into views of one buffer per chunk.
   *
   * Inputs the function cannot read — a tombstone, invalid UTF-8, text that
   * is not a JSON object, or with `check` (recordCheckSource) a record that
   * does not match the source schema — are listed in `unread`; the caller
   * decodes those few to say why. Outputs, errors and limits are otherwise
   * exactly runBatch's over the decoded records.
   */
  runEncoded(values: readonly (Uint8Array | null)[], options: { check?: string | null } = {}): Promise<UdfEncodedResult> {
    return this.enqueue(() => this.runValues(values, options.check ?? null));
  }

  /**
   * Rows in, encoded values out: for a UDF whose only consumers are Sinks but
   * whose input comes from other nodes. The rows cross as JSON texts, the
   * outputs come back as runEncoded's do, so the host skips parsing the
   * function's output and encoding it again. Same outputs and errors as
   * runBatch followed by encoding each output.
   */
  runRowsEncoded(rows: readonly Row[]): Promise<UdfEncodedResult> {
    return this.enqueue(() => this.runRowTexts(rows));
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    // Batches run one after another: failure recovery reads the isolate's state of the batch that failed.
    const run = this.queue.then(work);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async runRows(rows: readonly Row[]): Promise<UdfBatchResult> {
    if (this.disposed) throw new Error("UDF sandbox is disposed");
    const result: UdfBatchResult = { out: [], outIndex: [], errors: [] };
    await this.runJob({
      n: rows.length,
      input: (lo, hi) => encodeInput(rows, lo, hi),
      call: (inst, input) => inst.begin.apply(undefined, [input], { timeout: this.limits.timeoutMs }),
      apply: (text, lo, hi) => this.decode(text, rows, lo, hi, result),
      errors: result.errors,
    });
    return result;
  }

  private runValues(values: readonly (Uint8Array | null)[], check: string | null): Promise<UdfEncodedResult> {
    return this.runTexts(values.length, (lo, hi) => joinValues(values, lo, hi), check);
  }

  /** The encoded entry over `n` records whose texts `input` joins per chunk, with the source check `check` installed (null: none). */
  private async runTexts(n: number, input: (lo: number, hi: number) => string | Error, check: string | null): Promise<UdfEncodedResult> {
    if (this.disposed) throw new Error("UDF sandbox is disposed");
    const result: UdfEncodedResult = { values: [], outIndex: [], errors: [], unread: [] };
    const { timeoutMs } = this.limits;
    await this.runJob({
      n,
      input,
      call: (inst, text, lo, hi) => {
        const begin = () => inst.beginEncoded.apply(undefined, [text, hi - lo], { timeout: timeoutMs });
        if (inst.check === check) return begin();
        return inst.setCheck.apply(undefined, [check], { timeout: timeoutMs }).then(() => {
          inst.check = check;
          return begin();
        });
      },
      apply: (text, lo, hi) => this.decodeEncoded(text, lo, hi, result),
      errors: result.errors,
    });
    return result;
  }

  private async runRowTexts(rows: readonly Row[]): Promise<UdfEncodedResult> {
    const result = await this.runTexts(rows.length, (lo, hi) => joinRows(rows, lo, hi), null);
    // Rows are JSON objects, so the runner reads them all; one it did not read means it was tampered with.
    for (const index of result.unread) result.errors.push({ index, reason: "function could not read this record (did it modify built-in objects?)" });
    if (result.unread.length) {
      result.unread = [];
      result.errors.sort((a, b) => a.index - b.index);
    }
    return result;
  }

  /** Runs a batch in chunks, pipelined: the host prepares chunk k+1 and applies chunk k-1 while the isolate (on its own thread) runs chunk k. */
  private async runJob(job: Job): Promise<void> {
    const n = job.n;
    if (n === 0) return;
    let lo = 0;
    let hi = Math.min(n, CHUNK_ROWS);
    let input = job.input(lo, hi);
    let pending = await this.start(job, input, lo, hi);
    for (;;) {
      const nextLo = hi;
      const nextHi = Math.min(n, hi + CHUNK_ROWS);
      const nextInput = nextLo < n ? job.input(nextLo, nextHi) : undefined;
      const text = await this.complete(job, pending, input, lo, hi);
      if (nextInput === undefined) {
        if (text !== null) this.applyOrFail(job, text, lo, hi);
        break;
      }
      pending = await this.start(job, nextInput, nextLo, nextHi);
      if (text !== null) this.applyOrFail(job, text, lo, hi);
      [lo, hi, input] = [nextLo, nextHi, nextInput];
    }
    if (job.errors.length > 1) job.errors.sort((a, b) => a.index - b.index);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    finalizer.unregister(this);
    this.drop();
  }

  private drop() {
    if (this.inst) release(this.inst);
    this.inst = null;
    this.holder.inst = null;
  }

  private async instance(): Promise<Instance> {
    // Disposed while a batch was running (a cancelled preview): do not build a new isolate to finish it.
    if (this.disposed) throw new Error("UDF sandbox is disposed");
    if (this.inst && !this.inst.isolate.isDisposed) return this.inst;
    this.drop();
    const inst = await instantiate(this.source, this.form, this.limits);
    this.isolatesCreated++;
    if (this.disposed) {
      release(inst);
      throw new Error("UDF sandbox is disposed");
    }
    this.inst = inst;
    this.holder.inst = inst;
    return inst;
  }

  private failAll(job: Job, lo: number, hi: number, reason: string) {
    for (let i = lo; i < hi; i++) job.errors.push({ index: i, reason });
  }

  private async start(job: Job, input: string | Error, lo: number, hi: number): Promise<Attempt> {
    if (input instanceof Error) return { inst: null, call: Promise.resolve(null) };
    const inst = await this.instance();
    const call = job.call(inst, input, lo, hi);
    // Settled later by complete(); keep an early rejection from being reported as unhandled.
    call.catch(() => undefined);
    return { inst, call };
  }

  /** Runs one range from scratch (memory-limit bisection). */
  private async runRange(job: Job, lo: number, hi: number): Promise<void> {
    const input = job.input(lo, hi);
    const text = await this.complete(job, await this.start(job, input, lo, hi), input, lo, hi);
    if (text !== null) this.applyOrFail(job, text, lo, hi);
  }

  private applyOrFail(job: Job, text: string, lo: number, hi: number) {
    if (!job.apply(text, lo, hi)) {
      this.drop();
      this.failAll(job, lo, hi, "function produced malformed output (did it modify built-in objects?)");
    }
  }

  /**
   * Waits for a chunk's call and recovers from its failures. Returns the
   * runner's output text, or null when the records' outcome is already in
   * `result` (errors, or the bisected halves' outputs).
   */
  private async complete(job: Job, attempt: Attempt, input: string | Error, lo: number, hi: number): Promise<string | null> {
    if (input instanceof Error) {
      this.failAll(job, lo, hi, `record cannot be passed to the function: ${input.message}`);
      return null;
    }
    const inst = attempt.inst!;
    const { timeoutMs, memoryMb } = this.limits;
    let timeouts = 0;
    let call: Promise<string | null> = attempt.call;
    for (;;) {
      try {
        return await call;
      } catch (e) {
        if (inst.isolate.isDisposed) {
          this.drop();
          if (hi - lo === 1) {
            this.failAll(job, lo, hi, `function exceeded its memory limit of ${memoryMb} MB`);
            return null;
          }
          const mid = lo + ((hi - lo) >> 1);
          await this.runRange(job, lo, mid);
          await this.runRange(job, mid, hi);
          return null;
        }
        if (!TIMED_OUT.test(String(e))) {
          // The runner itself failed (the function broke built-ins it relies on): nothing in this isolate can be trusted.
          this.drop();
          this.failAll(job, lo, hi, `function failed: ${String((e as Error)?.message ?? e).slice(0, 300)}`);
          return null;
        }
        timeouts++;
        let at = -1;
        if (timeouts <= MAX_TIMEOUTS_PER_BATCH) {
          try {
            const w: unknown = await inst.where.apply(undefined, [], { timeout: 100 });
            at = typeof w === "number" && Number.isInteger(w) && w < hi - lo ? w : -1;
          } catch {
            at = -1;
          }
        }
        if (at < 0) {
          this.drop();
          this.failAll(job, lo, hi, `batch exceeded the time limit of ${timeoutMs} ms`);
          return null;
        }
        const why = `function exceeded the time limit of ${timeoutMs} ms`;
        call =
          timeouts >= MAX_TIMEOUTS_PER_BATCH
            ? inst.abort.apply(undefined, [why, `not run: the batch hit the time limit ${MAX_TIMEOUTS_PER_BATCH} times`], { timeout: timeoutMs })
            : inst.resume.apply(undefined, [why], { timeout: timeoutMs });
      }
    }
  }

  private decodeEncoded(text: string, lo: number, hi: number, result: UdfEncodedResult): boolean {
    const chunk = splitEncodedOutput(text, this.form, hi - lo);
    if (!chunk) return false;
    for (const v of chunk.values) result.values.push(v);
    for (const k of chunk.outIndex) result.outIndex.push(lo + k);
    for (const e of chunk.errors) result.errors.push({ index: lo + e.index, reason: e.reason });
    for (const k of chunk.unread) result.unread.push(lo + k);
    return true;
  }

  /** Validates and applies the runner's output; false when it is malformed (then nothing was applied). */
  private decode(text: string, rows: readonly Row[], lo: number, hi: number, result: UdfBatchResult): boolean {
    let parsed: unknown;
    try {
      // A "__proto__" key in JSON.parse output is an own property, but a later Object.assign would
      // turn it into a prototype; drop such keys (the reviver only runs when the text has one).
      parsed = text.includes('"__proto__"') ? JSON.parse(text, (k, v) => (k === "__proto__" ? undefined : v)) : JSON.parse(text);
    } catch {
      return false;
    }
    if (parsed === null || typeof parsed !== "object") return false;
    const { o, i, e } = parsed as { o: unknown; i: unknown; e: unknown };
    if (!Array.isArray(o) || !Array.isArray(i) || !Array.isArray(e)) return false;
    const n = hi - lo;
    const isIndex = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0 && x < n;
    // seen[k]: 1 = produced output, 2 = errored; map needs exactly one of them per input.
    const seen = new Uint8Array(n);
    for (const err of e) {
      if (!Array.isArray(err) || !isIndex(err[0]) || typeof err[1] !== "string" || seen[err[0]] !== 0) return false;
      seen[err[0]] = 2;
    }
    if (this.form === "filter") {
      if (o.length !== 0) return false;
      let prev = -1;
      for (const k of i) {
        if (!isIndex(k) || k <= prev || seen[k] !== 0) return false;
        prev = k;
      }
    } else {
      if (o.length !== i.length) return false;
      for (let j = 0; j < o.length; j++) {
        const k = i[j];
        const rec = o[j];
        if (!isIndex(k) || seen[k] === 2 || rec === null || typeof rec !== "object" || Array.isArray(rec)) return false;
        if (this.form === "map" && seen[k] === 1) return false;
        seen[k] = 1;
      }
      if (this.form === "map" && !seen.every((s) => s !== 0)) return false;
    }
    for (const [k, reason] of e as [number, string][]) result.errors.push({ index: lo + k, reason });
    if (this.form === "filter") {
      for (const k of i as number[]) {
        result.out.push(rows[lo + k]);
        result.outIndex.push(lo + k);
      }
    } else {
      for (let j = 0; j < o.length; j++) {
        result.out.push(o[j] as Row);
        result.outIndex.push(lo + (i[j] as number));
      }
    }
    return true;
  }
}
