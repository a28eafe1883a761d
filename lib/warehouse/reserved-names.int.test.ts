import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as pipelineRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import * as statusRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/status/route";
import * as validateRoute from "@/app/api/v1/teams/[team]/pipelines/validate/route";
import { prisma } from "@/lib/db/prisma";
import { closeKafka, kafkaAdmin } from "@/lib/kafka/shared";
import { createRedis } from "@/lib/redis/client";
import { changelogTopic, deadLetterStreamName, repartitionStreamName, stageChangelogTopic } from "@/lib/runtime/naming";
import { startTaskProcessor } from "@/lib/runtime/task-processor";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { call, copyPipeline, createPipelineWithVersion, signUpWithTeam, uniqueName, type TestUser } from "@/scripts/testing/api";

/**
 * Dead-letter squatting (issue 16, High 2): a team could create
 * `dlq.<other team>.<pipeline>` before that team deployed the pipeline, and
 * then read the victim's dead letters — full copies of its private records.
 * The platform's prefixes are reserved, and a deploy refuses to use a
 * dead-letter or state topic that is not its team's.
 */
const hasKafka = !!process.env.KAFKA_BROKERS;
const schema = [{ name: "id", type: "string" }];
let victim: TestUser, attacker: TestUser;
let victimTeam: string, attackerTeam: string;

async function createStream(caller: TestUser, team: string, name: string) {
  return call(streamsRoute.POST, { caller, params: { team }, body: { name, layer: "ODS", partitions: 1, schema, visibility: "private" } });
}

/** A squat made before the prefixes were reserved: a catalog stream of the attacker's team, with its topic. */
async function legacySquat(name: string) {
  const owner = await prisma().team.findUniqueOrThrow({ where: { slug: attackerTeam } });
  await prisma().stream.create({ data: { name, topic: name, layer: "ODS", ownerTeamId: owner.id, partitions: 1, visibility: "private", schemas: { create: { version: 1, format: "fields", definition: schema } } } });
  await (await kafkaAdmin()).createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: 1 }] });
}

async function victimPipeline(definition: unknown = copyPipeline(source, sink)) {
  const name = uniqueName("p");
  await createPipelineWithVersion(victim, victimTeam, name, definition);
  return name;
}

let source: string, sink: string;

beforeAll(async () => {
  if (!hasKafka) return;
  victimTeam = uniqueName("victim");
  attackerTeam = uniqueName("squatter");
  [victim, attacker] = await Promise.all([signUpWithTeam(victimTeam), signUpWithTeam(attackerTeam)]);
  [source, sink] = [`ods.${uniqueName("orders")}`, `dwd.${uniqueName("orders")}`];
  for (const name of [source, sink]) expect((await createStream(victim, victimTeam, name)).status).toBe(201);
});
afterAll(async () => {
  await closeTaskQueue();
  await closeKafka();
});

describe.skipIf(!hasKafka)("platform topic names", () => {
  it("refuses to create streams under the platform's prefixes, also spelled with _ (Kafka treats . and _ alike)", async () => {
    for (const name of [`dlq.${victimTeam}.orders`, "sluice.state.x.e0", `dlq_${victimTeam}_orders`, "sluice_state_x"]) {
      const res = await createStream(attacker, attackerTeam, name);
      expect(res.status, name).toBe(422);
      expect(res.body.error.details).toContainEqual({ path: ["name"], message: expect.stringMatching(/reserved for .*: choose another name/) });
    }
    // Names that merely look alike stay available.
    const fine = `dlqs.${uniqueName("x")}`;
    expect((await createStream(attacker, attackerTeam, fine)).status).toBe(201);
  });

  it("refuses to deploy into a dead-letter stream another team claimed before the prefix was reserved", async () => {
    const pipeline = await victimPipeline();
    const dlq = deadLetterStreamName(victimTeam, pipeline);
    await legacySquat(dlq);
    const dep = await call(deployRoute.POST, { caller: victim, params: { team: victimTeam, pipeline }, body: {} });
    expect(dep.status, JSON.stringify(dep.body)).toBe(409);
    expect(dep.body.error.message).toContain(`dead-letter stream "${dlq}" is already taken by a stream your team does not own`);
    // Nothing was deployed, and the squatter's stream stays the squatter's.
    expect((await call(pipelineRoute.GET, { caller: victim, params: { team: victimTeam, pipeline } })).body.deployment).toBeNull();
    expect((await prisma().stream.findUniqueOrThrow({ where: { name: dlq }, include: { ownerTeam: true } })).ownerTeam.slug).toBe(attackerTeam);
  });

  it("refuses a dead-letter topic that exists in Kafka without a catalog entry", async () => {
    const pipeline = await victimPipeline();
    const dlq = deadLetterStreamName(victimTeam, pipeline);
    await (await kafkaAdmin()).createTopics({ waitForLeaders: true, topics: [{ topic: dlq, numPartitions: 1 }] });
    const dep = await call(deployRoute.POST, { caller: victim, params: { team: victimTeam, pipeline }, body: {} });
    expect(dep.status, JSON.stringify(dep.body)).toBe(409);
    expect(dep.body.error.message).toContain(`a Kafka topic named "${dlq}" (the pipeline's dead-letter stream) exists outside the catalog`);
  });

  /** A Window pipeline of the victim (keyed scale-out cuts it into stages at the Window: a repartition stream and a stage changelog). */
  async function windowedPipeline() {
    const out = `dws.${uniqueName("counts")}`;
    const windowed = {
      version: 1,
      nodes: [
        { id: "s", type: "source", config: { stream: source }, position: { x: 0, y: 0 } },
        { id: "w", type: "window", config: { window: { kind: "tumbling", size: "1m" }, keys: [{ name: "id", expr: "id" }], aggregates: [{ name: "n", fn: "count" }] }, position: { x: 1, y: 0 } },
        { id: "o", type: "sink", config: { stream: out }, position: { x: 2, y: 0 } },
      ],
      edges: [{ source: "s", target: "w" }, { source: "w", target: "o" }],
    };
    // The Sink stream takes the Window's output schema, as the validator reports it.
    const checked = await call(validateRoute.POST, { caller: victim, params: { team: victimTeam }, body: { pipeline: windowed } });
    expect(checked.body.schemas.w, JSON.stringify(checked.body)).toBeDefined();
    expect((await call(streamsRoute.POST, { caller: victim, params: { team: victimTeam }, body: { name: out, layer: "DWS", partitions: 1, schema: checked.body.schemas.w } })).status).toBe(201);
    const pipeline = await victimPipeline(windowed);
    const id = (await call(pipelineRoute.GET, { caller: victim, params: { team: victimTeam, pipeline } })).body.id as string;
    return { pipeline, id };
  }

  async function expectDeployRefused(pipeline: string, message: string) {
    const dep = await call(deployRoute.POST, { caller: victim, params: { team: victimTeam, pipeline }, body: {} });
    expect(dep.status, JSON.stringify(dep.body)).toBe(409);
    expect(dep.body.error.message).toContain(message);
    expect((await call(pipelineRoute.GET, { caller: victim, params: { team: victimTeam, pipeline } })).body.deployment).toBeNull();
  }

  it("refuses to deploy a Window pipeline whose state topic (either layout's) is a catalog stream", async () => {
    for (const topic of [(id: string) => changelogTopic(id, 0), (id: string) => stageChangelogTopic(id, "w", 0)]) {
      const { pipeline, id } = await windowedPipeline();
      await legacySquat(topic(id));
      await expectDeployRefused(pipeline, `window-state topic "${topic(id)}" is already taken by a stream in the catalog`);
    }
  });

  it("refuses to deploy a Window pipeline whose repartition stream is another team's stream or a topic outside the catalog", async () => {
    const squatted = await windowedPipeline();
    await legacySquat(repartitionStreamName(squatted.id, "w"));
    await expectDeployRefused(squatted.pipeline, `The name "${repartitionStreamName(squatted.id, "w")}" of the pipeline's repartition stream is taken by another stream`);

    const outside = await windowedPipeline();
    const name = repartitionStreamName(outside.id, "w");
    await (await kafkaAdmin()).createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: 1 }] });
    await expectDeployRefused(outside.pipeline, `A Kafka topic named "${name}" (the pipeline's repartition stream) exists outside the catalog`);
    expect(await prisma().stream.findUnique({ where: { name } })).toBeNull();
  });

  it("fails a running deployment whose dead-letter stream was squatted before the fix, instead of writing to it", async () => {
    const pipeline = await victimPipeline();
    const dep = await call(deployRoute.POST, { caller: victim, params: { team: victimTeam, pipeline }, body: {} });
    expect(dep.status, JSON.stringify(dep.body)).toBe(200);
    // As an install upgraded with a squat in place: the stream the deployment writes dead letters to is another team's.
    const owner = await prisma().team.findUniqueOrThrow({ where: { slug: attackerTeam } });
    await prisma().stream.update({ where: { name: deadLetterStreamName(victimTeam, pipeline) }, data: { ownerTeamId: owner.id } });
    const redis = createRedis();
    const processor = startTaskProcessor({ workerId: "squat-test", slots: 2, redis });
    try {
      const deadline = Date.now() + 30_000;
      let status = (await call(statusRoute.GET, { caller: victim, params: { team: victimTeam, pipeline } })).body;
      while (status.actualState !== "failed" && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        status = (await call(statusRoute.GET, { caller: victim, params: { team: victimTeam, pipeline } })).body;
      }
      expect(status.actualState, JSON.stringify(status)).toBe("failed");
      expect(status.lastError).toContain("is already taken by a stream your team does not own");
    } finally {
      await call(stopRoute.POST, { caller: victim, params: { team: victimTeam, pipeline } });
      await processor.close();
      redis.disconnect();
    }
  });
});
