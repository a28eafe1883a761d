import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { z } from "zod";
import { acquireSlot, slotKey } from "@/lib/auth/live-access";
import { udfTestLimits } from "@/lib/env/udf-test";
import { jobNames, queues, redisKeys, type RunUdfTestPayload } from "@/lib/queue/contracts";
import { createQueue } from "@/lib/queue/producer";
import { createRedis, redis } from "@/lib/redis/client";
import { listWorkers } from "@/lib/runtime/worker-registry";
import type { Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { AppError } from "@/lib/errors";
import { getFunction } from "@/lib/functions/functions";
import { streamName, UDF_LIMITS, udfNodeConfig, type UdfForm } from "@/lib/pipeline/nodes";
import type { Row } from "@/lib/pipeline/schema";
import { readRecords } from "@/lib/warehouse/records";
import { TEST_RUN_BUDGET_MS, type UdfTestRunOutcome, type UdfTestRunRecord } from "./run-test";
import { validateUdfSource } from "./validate";

/** Sample size cap: a test run is for eyeballing outputs. */
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

export type { UdfTestRunRecord } from "./run-test";

export interface UdfTestRunResult {
  form: UdfForm;
  /** Set when the function came from the registry: the version that ran. */
  function?: { name: string; version: number };
  sample: { from: "records" } | { from: "stream"; stream: string };
  records: UdfTestRunRecord[];
  counts: { input: number; output: number; errors: number };
  /** Set when the run stopped before the end of the sample (output or time cap): why. */
  truncated?: string;
}

/** Characters of sample records a test run sends to the worker at most. */
export const MAX_TEST_INPUT_CHARS = 1 << 20;

const g = globalThis as unknown as { sluiceUdfTestQueue?: Queue };
const testRunQueue = () => (g.sluiceUdfTestQueue ??= createQueue(queues.udfTestRuns));

export async function closeUdfTestQueue(): Promise<void> {
  await g.sluiceUdfTestQueue?.close();
  g.sluiceUdfTestQueue = undefined;
}

/**
 * Runs a UDF on sample records in the same isolated-vm sandbox (and with the
 * same limits) the workers use, and reports each input record's outputs or
 * error. Nothing is written anywhere. The run happens on a worker (its
 * preview process, lib/runtime/udf-test-processor.ts), never in the web
 * server; each team may have UDF_TEST_RUNS_PER_TEAM running at once and the
 * installation UDF_TEST_RUNS_TOTAL; the answer is capped (run-test.ts).
 */
export async function testRunUdf(principal: Principal, teamSlug: string, raw: UdfTestRunInput): Promise<UdfTestRunResult> {
  const input = udfTestRunInput.parse(raw);
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
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
  // A syntax check in a throwaway 16 MB isolate with a 200 ms budget (the same the validator uses).
  const compile = validateUdfSource(source, form, "function");
  if (compile.length) throw new AppError("invalid_input", `The function does not compile: ${compile[0].message}. Fix it and run again.`, compile.map((d) => ({ path: ["function"], message: d.message })));

  let rows: Row[];
  if (input.records) rows = input.records;
  else {
    const read = await readRecords(principal, teamSlug, input.stream!, { limit: String(input.limit) });
    rows = read.records.map((r) => r.value).filter((v): v is Row => v !== null && typeof v === "object" && !Array.isArray(v));
    if (!rows.length) throw new AppError("invalid_input", `Stream "${input.stream}" has no JSON records to test with yet: produce some records or run Preview first.`);
  }
  if (JSON.stringify(rows).length > MAX_TEST_INPUT_CHARS) {
    throw new AppError("invalid_input", `The sample is larger than ${MAX_TEST_INPUT_CHARS / (1 << 20)} MiB: test on fewer or smaller records.`, [{ path: ["records"], message: "sample too large" }]);
  }
  if ((await listWorkers(redis())).length === 0) {
    throw new AppError("unavailable", "No worker is running, and test runs run on workers: start one (`npm run worker`, or `npm start`) and try again.");
  }

  const limits = udfTestLimits();
  // The whole run: the worker's time budget, plus one chunk at its worst (4 × the time limit), plus queueing.
  const waitMs = TEST_RUN_BUDGET_MS + 4 * input.timeoutMs + 15_000;
  const teamSlot = await acquireSlot(slotKey("udf-test", `team:${team.id}`), limits.UDF_TEST_RUNS_PER_TEAM, waitMs, `Team "${team.slug}" already has ${limits.UDF_TEST_RUNS_PER_TEAM} test runs running, the most one team may have at once. Wait for one to finish and try again.`);
  try {
    const totalSlot = await acquireSlot(slotKey("udf-test", "all"), limits.UDF_TEST_RUNS_TOTAL, waitMs, "The workers are busy with other teams' test runs. Try again in a few seconds.");
    try {
      const outcome = await runOnWorker({ testRunId: randomUUID(), teamId: team.id, source, form, timeoutMs: input.timeoutMs, memoryMb: input.memoryMb, rows }, waitMs);
      if (outcome.compileError) throw new AppError("invalid_input", `The function does not compile: ${outcome.compileError}`, [{ path: ["function"], message: outcome.compileError }]);
      return {
        form,
        ...(pinned ? { function: pinned } : {}),
        sample: input.records ? { from: "records" } : { from: "stream", stream: input.stream! },
        records: outcome.records,
        counts: outcome.counts,
        ...(outcome.truncated ? { truncated: outcome.truncated } : {}),
      };
    } finally {
      await totalSlot.release().catch(() => undefined);
    }
  } finally {
    await teamSlot.release().catch(() => undefined);
  }
}

/** Enqueues the run and waits for its outcome on its Redis channel (subscribed first, so it cannot be missed). */
async function runOnWorker(payload: RunUdfTestPayload, waitMs: number): Promise<UdfTestRunOutcome> {
  const sub = createRedis({ maxRetriesPerRequest: 2 });
  try {
    const answer = new Promise<{ ok: true; outcome: UdfTestRunOutcome } | { ok: false; message: string }>((resolve) => sub.on("message", (_c: string, m: string) => resolve(JSON.parse(m))));
    await sub.subscribe(redisKeys.udfTestChannel(payload.testRunId));
    await testRunQueue().add(jobNames.runUdfTest, payload, { jobId: payload.testRunId, attempts: 1, removeOnComplete: true, removeOnFail: { age: 600 } });
    let timer: NodeJS.Timeout | undefined;
    const res = await Promise.race([answer, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), waitMs)))]);
    clearTimeout(timer);
    if (!res) {
      await testRunQueue().remove(payload.testRunId).catch(() => undefined);
      throw new AppError("unavailable", `The test run did not finish within ${Math.round(waitMs / 1000)} s (the workers may be busy). Try again, or test on fewer records.`);
    }
    if (!res.ok) throw new AppError("internal", `The test run failed on the worker: ${res.message}`);
    return res.outcome;
  } finally {
    sub.disconnect();
  }
}
