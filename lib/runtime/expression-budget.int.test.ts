import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import * as statusRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/status/route";
import * as pipelinesRoute from "@/app/api/v1/teams/[team]/pipelines/route";
import * as versionsRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/versions/route";
import * as validateRoute from "@/app/api/v1/teams/[team]/pipelines/validate/route";
import { closeKafka, kafkaAdmin } from "@/lib/kafka/shared";
import { consumerGroupId, deadLetterStreamName } from "@/lib/runtime/naming";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { prisma } from "@/lib/db/prisma";
import { call, createPipelineWithVersion, signUpWithTeam, uniqueName, waitFor, type TestUser } from "@/scripts/testing/api";
import { WorkerPool } from "@/scripts/testing/workers";

/**
 * Issue 16, High 3, in a deployed pipeline: an expression whose static
 * estimate fits (lists read from records are assumed to hold 100 elements)
 * can still meet a record whose list holds 20,000 — a quadratic predicate is
 * then 4·10⁸ iterations on that record, which used to hold the task (and its
 * worker's event loop) for as long as it took. The run-time budget per record
 * must fail that one record into the dead-letter stream, with the reason,
 * while the records around it flow and the task stays healthy. And an
 * expression over the static limit must be refused on its node's field.
 */
const hasKafka = !!process.env.KAFKA_BROKERS;
const pool = new WorkerPool();
let user: TestUser;
let team: string;

beforeAll(async () => {
  if (!hasKafka) return;
  team = uniqueName("budget");
  user = await signUpWithTeam(team);
  pool.spawn(`${team}-worker`);
});

afterAll(async () => {
  await pool.killAll();
  await closeTaskQueue();
  await closeKafka();
});

async function readAll(stream: string): Promise<any[]> {
  const r = await call(recordsRoute.GET, { caller: user, params: { team, stream }, path: `/?partition=0&fromOffset=0&limit=1000` });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.records.map((x: { value: unknown }) => x.value);
}

async function committed(groupId: string, topic: string): Promise<number> {
  const offsets = await (await kafkaAdmin()).fetchOffsets({ groupId, topics: [topic] });
  return Number(offsets[0]?.partitions[0]?.offset ?? -1);
}

const graph = (src: string, sink: string, predicate: string) => ({
  version: 1,
  nodes: [
    { id: "src", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
    { id: "f", type: "filter", config: { predicate }, position: { x: 1, y: 0 } },
    { id: "out", type: "sink", config: { stream: sink }, position: { x: 2, y: 0 } },
  ],
  edges: [
    { source: "src", target: "f" },
    { source: "f", target: "out" },
  ],
});

describe.skipIf(!hasKafka)("expression cost in a deployed pipeline", () => {
  it("dead-letters the one record that runs out of the per-record budget; the records around it flow and the task stays running", async () => {
    const schema = [
      { name: "n", type: "int" },
      { name: "items", type: { list: "int" } },
    ];
    const src = `ods.${uniqueName("eb-src")}`;
    const sink = `dwd.${uniqueName("eb-sink")}`;
    expect((await call(streamsRoute.POST, { caller: user, params: { team }, body: { name: src, layer: "ODS", partitions: 1, schema } })).status).toBe(201);
    expect((await call(streamsRoute.POST, { caller: user, params: { team }, body: { name: sink, layer: "DWD", partitions: 1, schema } })).status).toBe(201);
    const name = uniqueName("eb");
    // Every element occurs once: quadratic in the list's length, accepted by the static estimate (100 × 100).
    await createPipelineWithVersion(user, team, name, graph(src, sink, "items.all(x, items.filter(y, y == x).size() == 1)"));

    const big = Array.from({ length: 20_000 }, (_, i) => i);
    const records = Array.from({ length: 12 }, (_, n) => ({ value: { n, items: n === 5 ? big : [n, n + 1, n + 2] } }));
    expect((await call(recordsRoute.POST, { caller: user, params: { team, stream: src }, body: { records } })).status).toBe(200);
    expect((await call(deployRoute.POST, { caller: user, params: { team, pipeline: name }, body: { parallelism: 1 } })).status).toBe(200);

    const pipelineId = (await prisma().pipeline.findFirstOrThrow({ where: { name, team: { slug: team } } })).id;
    const deadline = Date.now() + 45_000;
    while ((await committed(consumerGroupId(pipelineId), src)) < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 300));
    expect(await committed(consumerGroupId(pipelineId), src)).toBe(12);

    expect((await readAll(sink)).map((r) => r.n)).toEqual(records.map((r) => r.value.n).filter((n) => n !== 5));
    const dead = await readAll(deadLetterStreamName(team, name));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ nodeId: "f", reason: expect.stringMatching(/exceeded its cost budget of 1,000,000 units/), source: { offset: "5" } });

    // Still healthy: a record produced now goes straight through.
    expect((await call(recordsRoute.POST, { caller: user, params: { team, stream: src }, body: { records: [{ value: { n: 100, items: [1] } }] } })).status).toBe(200);
    const late = Date.now() + 20_000;
    while (!(await readAll(sink)).some((r) => r.n === 100) && Date.now() < late) await new Promise((r) => setTimeout(r, 300));
    expect((await readAll(sink)).filter((r) => r.n === 100)).toHaveLength(1);
    // The task's published state counts the failed record (it is written with the task's heartbeat).
    const task = await waitFor(
      "the task's state to count the failed record",
      async () => (await call(statusRoute.GET, { caller: user, params: { team, pipeline: name } })).body.tasks[0],
      (t) => t.recordsErrored === 1,
      10_000,
    );
    expect(task.state).toBe("running");
    await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } });
  }, 90_000);

  it("refuses an expression over the static limit: a diagnostic on the node's field, and no deploy", async () => {
    const src = `ods.${uniqueName("eb-lim")}`;
    const sink = `dwd.${uniqueName("eb-lim")}`;
    const schema = [{ name: "items", type: { list: "int" } }];
    expect((await call(streamsRoute.POST, { caller: user, params: { team }, body: { name: src, layer: "ODS", partitions: 1, schema } })).status).toBe(201);
    expect((await call(streamsRoute.POST, { caller: user, params: { team }, body: { name: sink, layer: "DWD", partitions: 1, schema } })).status).toBe(201);
    // Three nested loops over a record's list: 100 × 100 × 100 assumed iterations.
    const pipeline = graph(src, sink, "items.exists(a, items.exists(b, items.exists(c, a + b == c)))");
    const v = await call(validateRoute.POST, { caller: user, params: { team }, body: { pipeline } });
    expect(v.status).toBe(200);
    expect(v.body.diagnostics).toEqual([
      expect.objectContaining({ severity: "error", code: "expression-cost", nodeId: "f", path: "config.predicate", message: expect.stringMatching(/iterates 100 × 100 × 100 times/) }),
    ]);

    // Saving (and so deploying) refuses it with the same diagnostic.
    const name = uniqueName("eb-lim");
    expect((await call(pipelinesRoute.POST, { caller: user, params: { team }, body: { name } })).status).toBe(201);
    const saved = await call(versionsRoute.POST, { caller: user, params: { team, pipeline: name }, body: { pipeline } });
    expect(saved.status).toBe(422);
    expect(saved.body.error.details).toEqual([expect.objectContaining({ code: "expression-cost", nodeId: "f", path: "config.predicate" })]);
  }, 30_000);
});
