import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as streamRoute from "@/app/api/v1/teams/[team]/streams/[stream]/route";
import * as pipelinesRoute from "@/app/api/v1/teams/[team]/pipelines/route";
import * as validateRoute from "@/app/api/v1/teams/[team]/pipelines/validate/route";
import * as versionsRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/versions/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import * as statusRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/status/route";
import { closeKafka } from "@/lib/kafka/shared";
import { createRedis } from "@/lib/redis/client";
import { startTaskProcessor } from "@/lib/runtime/task-processor";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { call, copyPipeline, createPipelineWithVersion, signUpWithTeam, uniqueName, type TestUser } from "@/scripts/testing/api";

/**
 * A Sink on a stream the team cannot see (issue 16, Medium 6) passed
 * validation and deploy, and its task then crash-looped with "Cannot read
 * properties of undefined (reading 'topic')" while the status stayed
 * "starting". Now validation names the node, deploy refuses, and a task that
 * cannot start fails its deployment with the reason.
 */
const hasKafka = !!process.env.KAFKA_BROKERS;
const schema = [{ name: "id", type: "string" }];
let ours: TestUser, theirs: TestUser;
let team: string, otherTeam: string;
let source: string, theirPrivate: string;

async function createStream(caller: TestUser, t: string, name: string, visibility = "team") {
  const res = await call(streamsRoute.POST, { caller, params: { team: t }, body: { name, layer: "ODS", partitions: 1, schema, visibility } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

beforeAll(async () => {
  if (!hasKafka) return;
  team = uniqueName("sinks");
  otherTeam = uniqueName("private");
  [ours, theirs] = await Promise.all([signUpWithTeam(team), signUpWithTeam(otherTeam)]);
  source = `ods.${uniqueName("src")}`;
  theirPrivate = `dwd.${uniqueName("secret")}`;
  await createStream(ours, team, source);
  await createStream(theirs, otherTeam, theirPrivate, "private");
});
afterAll(async () => {
  await closeTaskQueue();
  await closeKafka();
});

describe.skipIf(!hasKafka)("a Sink on a stream the team cannot see", () => {
  it("is reported on the Sink node, the same way for another team's private stream and for one that does not exist", async () => {
    const missing = `dwd.${uniqueName("nowhere")}`;
    const messages: string[] = [];
    for (const target of [theirPrivate, missing]) {
      const res = await call(validateRoute.POST, { caller: ours, params: { team }, body: { pipeline: copyPipeline(source, target) } });
      expect(res.status).toBe(200);
      const errors = res.body.diagnostics.filter((d: { severity: string }) => d.severity === "error");
      expect(errors).toEqual([expect.objectContaining({ code: "sink-stream-missing", nodeId: "o", path: "nodes[1].config.stream" })]);
      messages.push(errors[0].message.replace(target, "<stream>"));
    }
    // Nothing tells the private stream apart from a name that is free.
    expect(messages[0]).toBe(messages[1]);
    expect(messages[0]).toContain("create it as one of your team's streams first");
  });

  it("refuses to deploy a saved version whose Sink stream is gone, and fails a task that cannot start with a clear lastError", async () => {
    const sink = `dwd.${uniqueName("sink")}`;
    await createStream(ours, team, sink);
    const pipeline = uniqueName("p");
    await createPipelineWithVersion(ours, team, pipeline, copyPipeline(source, sink));
    // Deployed while no worker runs, then the Sink stream is deleted before its task starts.
    expect((await call(deployRoute.POST, { caller: ours, params: { team, pipeline }, body: {} })).status).toBe(200);
    expect((await call(streamRoute.DELETE, { method: "DELETE", caller: ours, params: { team, stream: sink }, path: "/?force=true" })).status).toBe(200);

    const redis = createRedis();
    const processor = startTaskProcessor({ workerId: "sink-test", slots: 2, redis });
    try {
      const deadline = Date.now() + 30_000;
      let status = (await call(statusRoute.GET, { caller: ours, params: { team, pipeline } })).body;
      while (status.actualState !== "failed" && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        status = (await call(statusRoute.GET, { caller: ours, params: { team, pipeline } })).body;
      }
      expect(status.actualState, JSON.stringify(status)).toBe("failed");
      expect(status.lastError).toContain(`Stream "${sink}" does not exist`);
    } finally {
      await processor.close();
      redis.disconnect();
    }

    // A redeploy validates against today's catalog and refuses, naming the node.
    const dep = await call(deployRoute.POST, { caller: ours, params: { team, pipeline }, body: {} });
    expect(dep.status).toBe(422);
    expect(dep.body.error.details).toContainEqual(expect.objectContaining({ code: "sink-stream-missing", nodeId: "o" }));
    await call(stopRoute.POST, { caller: ours, params: { team, pipeline } });
  });

  it("refuses to save a version whose Sink is another team's private stream", async () => {
    const pipeline = uniqueName("p");
    expect((await call(pipelinesRoute.POST, { caller: ours, params: { team }, body: { name: pipeline } })).status).toBe(201);
    const saved = await call(versionsRoute.POST, { caller: ours, params: { team, pipeline }, body: { pipeline: copyPipeline(source, theirPrivate) } });
    expect(saved.status).toBe(422);
    expect(saved.body.error.details).toContainEqual(expect.objectContaining({ code: "sink-stream-missing", nodeId: "o" }));
  });
});
