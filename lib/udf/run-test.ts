import type { UdfForm } from "@/lib/pipeline/nodes/udf";
import type { Row } from "@/lib/pipeline/schema";
import { UdfCompileError, UdfSandbox, type UdfLimits } from "./sandbox";

/**
 * The worker side of a UDF "Test run" (lib/udf/test-run.ts has the web side):
 * the function runs on the sample in the same sandbox and with the same
 * limits as a deployment, in small chunks, and the answer is capped — a
 * 300-byte request once made the web server build a 204 MB response.
 */

/** Output records one test run returns at most. */
export const MAX_TEST_OUTPUT_RECORDS = 500;
/** Characters of output (as JSON) one test run returns at most. */
export const MAX_TEST_OUTPUT_CHARS = 1 << 20;
/** Wall time after which a test run starts no further chunk (each chunk is bounded by 4 × its time limit). */
export const TEST_RUN_BUDGET_MS = 15_000;
/** Input records per call into the sandbox: the host never holds more than these records' outputs at once. */
const TEST_CHUNK = 10;

export interface UdfTestRunRecord {
  input: Row;
  /** map: one record; flatMap: 0..n; filter: the input itself when kept, none when dropped. */
  outputs: Row[];
  error?: string;
}

export interface UdfTestRunOutcome {
  records: UdfTestRunRecord[];
  counts: { input: number; output: number; errors: number };
  /** Set when the run stopped before the end of the sample: why, and what to do. */
  truncated?: string;
  /** The function did not compile (the web checked it, but the sandbox has the last word). */
  compileError?: string;
}

export async function runUdfTest(source: string, form: UdfForm, limits: UdfLimits, rows: Row[]): Promise<UdfTestRunOutcome> {
  let sandbox: UdfSandbox;
  try {
    sandbox = await UdfSandbox.create(source, form, limits);
  } catch (e) {
    if (e instanceof UdfCompileError) return { records: [], counts: { input: rows.length, output: 0, errors: 0 }, compileError: e.message };
    throw e;
  }
  const started = Date.now();
  const records: UdfTestRunRecord[] = [];
  let outputs = 0;
  let chars = 0;
  let errors = 0;
  let truncated: string | undefined;
  try {
    for (let lo = 0; lo < rows.length && !truncated; lo += TEST_CHUNK) {
      if (lo > 0 && Date.now() - started > TEST_RUN_BUDGET_MS) {
        truncated = `The test run stopped after ${lo} of ${rows.length} records: it ran for more than ${TEST_RUN_BUDGET_MS / 1000} s. Test on fewer records, or make the function faster.`;
        break;
      }
      const chunk = rows.slice(lo, lo + TEST_CHUNK);
      const result = await sandbox.runBatch(chunk);
      const ran: UdfTestRunRecord[] = chunk.map((input) => ({ input, outputs: [] }));
      result.out.forEach((row, j) => ran[result.outIndex[j]].outputs.push(row));
      for (const err of result.errors) {
        ran[err.index].error = err.reason;
        ran[err.index].outputs = [];
      }
      for (const r of ran) {
        const size = r.outputs.reduce((n, o) => n + JSON.stringify(o).length, 0);
        if (outputs + r.outputs.length > MAX_TEST_OUTPUT_RECORDS || chars + size > MAX_TEST_OUTPUT_CHARS) {
          truncated =
            `The test run stopped after ${records.length} of ${rows.length} records: a test run returns at most ${MAX_TEST_OUTPUT_RECORDS} output records ` +
            `and ${MAX_TEST_OUTPUT_CHARS / (1 << 20)} MiB of output, and the next record would go past that. Test on fewer records to see them.`;
          break;
        }
        records.push(r);
        outputs += r.outputs.length;
        chars += size;
        if (r.error) errors++;
      }
    }
  } finally {
    sandbox.dispose();
  }
  return { records, counts: { input: rows.length, output: outputs, errors }, ...(truncated ? { truncated } : {}) };
}
