import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import * as statusRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/status/route";
import { closeKafka, kafkaAdmin } from "@/lib/kafka/shared";
import { consumerGroupId, deadLetterStreamName } from "@/lib/runtime/naming";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { prisma } from "@/lib/db/prisma";
import { call, createPipelineWithVersion, signUpWithTeam, uniqueName, type TestUser } from "@/scripts/testing/api";
import { WorkerPool } from "@/scripts/testing/workers";

/**
 * Issue 16, Medium 9: a UDF batch that takes longer than the consumer's
 * session timeout (6 s) — here one record loops until the function's 8 s
 * time limit — used to get the task evicted from its consumer group before it
 * could commit, so it rejoined, fetched the same batch and did it again,
 * forever. The task must keep its membership through such a batch, dead-letter
 * the record that hit the limit, and go on.
 */
const hasKafka = !!process.env.KAFKA_BROKERS;
const pool = new WorkerPool();
let user: TestUser;
let team: string;

beforeAll(async () => {
  if (!hasKafka) return;
  team = uniqueName("udfs");
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

describe.skipIf(!hasKafka)("a UDF batch longer than the consumer session", () => {
  it.each(["at_least_once", "exactly_once"] as const)("%s: the record that hit the time limit is dead-lettered once and the task goes on", async (guarantee) => {
    const src = `ods.${uniqueName("us-src")}`;
    const sink = `dwd.${uniqueName("us-sink")}`;
    expect((await call(streamsRoute.POST, { caller: user, params: { team }, body: { name: src, layer: "ODS", partitions: 1, schema: [{ name: "n", type: "int" }, { name: "poison", type: "bool", nullable: true }] } })).status).toBe(201);
    expect((await call(streamsRoute.POST, { caller: user, params: { team }, body: { name: sink, layer: "DWD", partitions: 1, schema: [{ name: "n", type: "int" }, { name: "doubled", type: "int" }] } })).status).toBe(201);
    const name = uniqueName("us");
    await createPipelineWithVersion(user, team, name, {
      version: 1,
      nodes: [
        { id: "src", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
        {
          id: "slow",
          type: "udf",
          config: {
            function: { inline: { form: "map", source: "(r) => { if (r.poison) { for (;;) {} } return { n: r.n, doubled: r.n * 2 }; }" } },
            outputSchema: [{ name: "n", type: "int" }, { name: "doubled", type: "int" }],
            timeoutMs: 8_000,
          },
          position: { x: 1, y: 0 },
        },
        { id: "out", type: "sink", config: { stream: sink }, position: { x: 2, y: 0 } },
      ],
      edges: [{ source: "src", target: "slow" }, { source: "slow", target: "out" }],
    });
    const records = Array.from({ length: 20 }, (_, n) => ({ value: n === 7 ? { n, poison: true } : { n } }));
    expect((await call(recordsRoute.POST, { caller: user, params: { team, stream: src }, body: { records } })).status).toBe(200);
    expect((await call(deployRoute.POST, { caller: user, params: { team, pipeline: name }, body: { parallelism: 1, deliveryGuarantee: guarantee } })).status).toBe(200);

    const pipelineId = (await prisma().pipeline.findFirstOrThrow({ where: { name, team: { slug: team } } })).id;
    const deadline = Date.now() + 60_000;
    while ((await committed(consumerGroupId(pipelineId), src)) < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(await committed(consumerGroupId(pipelineId), src)).toBe(20);

    // Every other record once, in order; the poison record once, in the dead-letter stream.
    expect((await readAll(sink)).map((r) => r.n)).toEqual(records.map((r) => r.value.n).filter((n) => n !== 7));
    const dead = await readAll(deadLetterStreamName(team, name));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ nodeId: "slow", reason: expect.stringMatching(/time limit of 8000 ms/), source: { offset: "7" } });

    // Still a healthy member: a record produced now goes straight through.
    expect((await call(recordsRoute.POST, { caller: user, params: { team, stream: src }, body: { records: [{ value: { n: 100 } }] } })).status).toBe(200);
    const late = Date.now() + 20_000;
    while (!(await readAll(sink)).some((r) => r.n === 100) && Date.now() < late) await new Promise((r) => setTimeout(r, 300));
    expect((await readAll(sink)).filter((r) => r.n === 100)).toHaveLength(1);
    const status = (await call(statusRoute.GET, { caller: user, params: { team, pipeline: name } })).body;
    expect(status.tasks[0].state).toBe("running");
    await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } });
  }, 120_000);
});
