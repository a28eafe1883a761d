import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import { prisma } from "@/lib/db/prisma";
import { closeKafka } from "@/lib/kafka/shared";
import { closeRedis, redis } from "@/lib/redis/client";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { call, copyPipeline, createPipelineWithVersion, signUpWithTeam, uniqueName, type TestUser } from "@/scripts/testing/api";
import { recordTaskFailure, type RestartPolicy } from "./restart-policy";

/**
 * The crash-loop limit counts one task's failures, not the deployment's: a
 * broker or Redis restart makes every task fail once at the same moment (the
 * reliability suite saw a 3 + 3 task deployment failed by one broker restart
 * when the count was per deployment), and that must not fail a deployment,
 * while one task failing again and again must.
 */
const hasKafka = !!process.env.KAFKA_BROKERS;
const policy: RestartPolicy = { maxFailures: 3, windowMs: 60_000, backoffMaxMs: 10_000 };
let user: TestUser;
let team: string;

beforeAll(async () => {
  if (!hasKafka) return;
  team = uniqueName("restart");
  user = await signUpWithTeam(team);
});

afterAll(async () => {
  await closeTaskQueue();
  await closeKafka();
  await closeRedis();
});

describe.skipIf(!hasKafka)("restart policy", () => {
  it("restarts every task that failed once together, and fails the deployment when one task fails maxFailures times", async () => {
    const src = `ods.${uniqueName("rp-src")}`;
    const sink = `dwd.${uniqueName("rp-sink")}`;
    for (const name of [src, sink]) expect((await call(streamsRoute.POST, { caller: user, params: { team }, body: { name, layer: name.slice(0, 3).toUpperCase(), partitions: 1, schema: [{ name: "n", type: "int" }] } })).status).toBe(201);
    const name = uniqueName("rp");
    await createPipelineWithVersion(user, team, name, copyPipeline(src, sink));
    // No worker runs it: the failures below are recorded as a worker would record them.
    expect((await call(deployRoute.POST, { caller: user, params: { team, pipeline: name }, body: { parallelism: 1 } })).status).toBe(200);
    const d = await prisma().deployment.findFirstOrThrow({ where: { pipeline: { name } } });
    try {
      // Six tasks (two stages of three) fail once each at the same moment, as a broker restart makes them.
      const tasks = ["main", "w"].flatMap((stage) => [0, 1, 2].map((taskIndex) => ({ deploymentId: d.id, generation: d.generation, taskIndex, stage })));
      const once = [];
      for (const t of tasks) once.push(await recordTaskFailure(redis(), t, "Connection error: read ECONNRESET", policy));
      expect(once.map((r) => [r.giveUp, r.attempt, r.backoffMs])).toEqual(tasks.map(() => [false, 1, 1_000]));
      expect(once.at(-1)!.failures).toBe(6);
      expect((await prisma().deployment.findUniqueOrThrow({ where: { id: d.id } })).desiredState).toBe("running");

      // One task keeps crashing: its second failure backs off longer, its third fails the deployment.
      const again = await recordTaskFailure(redis(), tasks[4], "boom 2", policy);
      expect([again.giveUp, again.attempt, again.backoffMs]).toEqual([false, 2, 2_000]);
      const third = await recordTaskFailure(redis(), tasks[4], "boom 3", policy);
      expect([third.giveUp, third.attempt]).toEqual([true, 3]);
      const failed = await prisma().deployment.findUniqueOrThrow({ where: { id: d.id } });
      expect([failed.desiredState, failed.actualState]).toEqual(["stopped", "failed"]);
      expect(failed.lastError).toBe("task 1 of stage w failed 3 times within 1 min (the limit is 3 per task); last error: boom 3");
    } finally {
      await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } });
    }
  });
});
