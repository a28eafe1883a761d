import { z } from "zod";
import type { Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { AppError } from "@/lib/errors";
import { getFunction } from "@/lib/functions/functions";
import { streamName, UDF_LIMITS, udfNodeConfig, type UdfForm } from "@/lib/pipeline/nodes";
import type { Row } from "@/lib/pipeline/schema";
import { readRecords } from "@/lib/warehouse/records";
import { UdfCompileError, UdfSandbox } from "./sandbox";
import { validateUdfSource } from "./validate";

/** Sample size cap: a test run is for eyeballing outputs, and it runs on the web server. */
export const MAX_TEST_RECORDS = 100;

/**
 * A "Test run" request from the UDF inspector: the function as the node
 * configures it (inline source or a registry reference) and the sample to run
 * it on — the rows the canvas already has (the upstream node's preview) or,
 * without them, the newest records of a stream the team can read.
 */
export const udfTestRunInput = z
  .object({
    function: udfNodeConfig.shape.function,
    timeoutMs: z.number().int().min(UDF_LIMITS.timeoutMs.min).max(UDF_LIMITS.timeoutMs.max).default(UDF_LIMITS.timeoutMs.default),
    memoryMb: z.number().int().min(UDF_LIMITS.memoryMb.min).max(UDF_LIMITS.memoryMb.max).default(UDF_LIMITS.memoryMb.default),
    records: z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_TEST_RECORDS).optional(),
    stream: streamName.optional(),
    limit: z.number().int().min(1).max(MAX_TEST_RECORDS).default(20),
  })
  .refine((i) => i.records !== undefined || i.stream !== undefined, { message: "give sample records, or a stream to take the newest records from", path: ["records"] });
export type UdfTestRunInput = z.input<typeof udfTestRunInput>;

export interface UdfTestRunRecord {
  input: Row;
  /** map: one record; flatMap: 0..n; filter: the input itself when kept, none when dropped. */
  outputs: Row[];
  error?: string;
}

export interface UdfTestRunResult {
  form: UdfForm;
  /** Set when the function came from the registry: the version that ran. */
  function?: { name: string; version: number };
  sample: { from: "records" } | { from: "stream"; stream: string };
  records: UdfTestRunRecord[];
  counts: { input: number; output: number; errors: number };
}

/**
 * Runs a UDF on sample records in the same isolated-vm sandbox (and with the
 * same limits) the workers use, and reports each input record's outputs or
 * error. Nothing is written anywhere.
 */
export async function testRunUdf(principal: Principal, teamSlug: string, raw: UdfTestRunInput): Promise<UdfTestRunResult> {
  const input = udfTestRunInput.parse(raw);
  await requireTeamRole(principal, teamSlug, "viewer");
  const fn = input.function;
  let source: string;
  let form: UdfForm;
  let pinned: { name: string; version: number } | undefined;
  if ("inline" in fn) {
    ({ source, form } = fn.inline);
  } else {
    const found = await getFunction(principal, teamSlug, fn.name, fn.version);
    source = found.source;
    form = found.form as UdfForm;
    pinned = { name: found.name, version: found.version };
  }
  const compile = validateUdfSource(source, form, "function");
  if (compile.length) throw new AppError("invalid_input", `The function does not compile: ${compile[0].message}. Fix it and run again.`, compile.map((d) => ({ path: ["function"], message: d.message })));

  let rows: Row[];
  if (input.records) rows = input.records;
  else {
    const read = await readRecords(principal, teamSlug, input.stream!, { limit: String(input.limit) });
    rows = read.records.map((r) => r.value).filter((v): v is Row => v !== null && typeof v === "object" && !Array.isArray(v));
    if (!rows.length) throw new AppError("invalid_input", `Stream "${input.stream}" has no JSON records to test with yet: produce some records or run Preview first.`);
  }

  let sandbox: UdfSandbox;
  try {
    sandbox = await UdfSandbox.create(source, form, { timeoutMs: input.timeoutMs, memoryMb: input.memoryMb });
  } catch (e) {
    if (e instanceof UdfCompileError) throw new AppError("invalid_input", `The function does not compile: ${e.message}`, [{ path: ["function"], message: e.message }]);
    throw e;
  }
  try {
    const result = await sandbox.runBatch(rows);
    const records: UdfTestRunRecord[] = rows.map((r) => ({ input: r, outputs: [] }));
    result.out.forEach((row, j) => records[result.outIndex[j]].outputs.push(row));
    for (const err of result.errors) {
      records[err.index].error = err.reason;
      records[err.index].outputs = [];
    }
    return {
      form,
      ...(pinned ? { function: pinned } : {}),
      sample: input.records ? { from: "records" } : { from: "stream", stream: input.stream! },
      records,
      counts: { input: rows.length, output: records.reduce((n, r) => n + r.outputs.length, 0), errors: result.errors.length },
    };
  } finally {
    sandbox.dispose();
  }
}
