import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as membersRoute from "@/app/api/v1/teams/[team]/members/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import * as pipelinesRoute from "@/app/api/v1/teams/[team]/pipelines/route";
import * as pipelineRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/route";
import * as duplicateRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/duplicate/route";
import * as versionsRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/versions/route";
import * as versionRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/versions/[version]/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import * as statusRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/status/route";
import { prisma } from "@/lib/db/prisma";
import { closeKafka } from "@/lib/kafka/shared";
import { createRedis } from "@/lib/redis/client";
import { startTaskProcessor, type TaskProcessor } from "@/lib/runtime/task-processor";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { call, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";

const hasKafka = !!process.env.KAFKA_BROKERS;
let owner: TestUser, viewer: TestUser, outsider: TestUser;
let team: string, other: string;
let src: string, sink: string;
let processor: TaskProcessor | undefined;
const redis = hasKafka ? createRedis() : undefined;
const schema = [{ name: "id", type: "string" }, { name: "n", type: "int" }];

const definition = (predicate: string) => ({
  version: 1,
  nodes: [
    { id: "s", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
    { id: "f", type: "filter", config: { predicate }, position: { x: 200, y: 0 } },
    { id: "o", type: "sink", config: { stream: sink }, position: { x: 400, y: 0 } },
  ],
  edges: [{ source: "s", target: "f" }, { source: "f", target: "o" }],
});

async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last value ${JSON.stringify(last).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await fn();
  }
  return last;
}

beforeAll(async () => {
  if (!hasKafka) return;
  [owner, viewer, outsider] = await Promise.all([signUp(), signUp(), signUp()]);
  [team, other] = [uniqueName("dup"), uniqueName("dup-other")];
  expect((await call(teams.POST, { caller: owner, body: { name: "Dup", slug: team } })).status).toBe(201);
  expect((await call(teams.POST, { caller: outsider, body: { name: "Other", slug: other } })).status).toBe(201);
  expect((await call(membersRoute.POST, { caller: owner, params: { team }, body: { email: viewer.email, role: "viewer" } })).status).toBe(201);
  [src, sink] = [`ods.${uniqueName("dup")}`, `dwd.${uniqueName("dup")}`];
  for (const name of [src, sink]) expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name, layer: "ODS", partitions: 1, schema } })).status).toBe(201);
  processor = startTaskProcessor({ workerId: uniqueName("dup-worker"), slots: 2, redis: redis! });
});

afterAll(async () => {
  await processor?.close();
  await closeTaskQueue();
  await closeKafka();
  redis?.disconnect();
});

describe.skipIf(!hasKafka)("duplicate and delete pipelines", () => {
  it("duplicates the latest version into a new pipeline whose history starts at v1, audited; names must be free", async () => {
    expect((await call(pipelinesRoute.POST, { caller: owner, params: { team }, body: { name: "orig", description: "the original" } })).status).toBe(201);
    for (const [predicate, message] of [["n > 1", "first"], ["n > 5", "stricter"]]) {
      const saved = await call(versionsRoute.POST, { caller: owner, params: { team, pipeline: "orig" }, body: { pipeline: definition(predicate), message } });
      expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    }

    const dup = await call(duplicateRoute.POST, { caller: owner, params: { team, pipeline: "orig" }, body: { name: "orig-copy" } });
    expect(dup.status, JSON.stringify(dup.body)).toBe(201);
    expect(dup.body).toMatchObject({ name: "orig-copy", description: "the original", team, latestVersion: 1, deployment: null });

    const versions = await call(versionsRoute.GET, { caller: owner, params: { team, pipeline: "orig-copy" } });
    expect(versions.body.versions.map((v: { version: number; message: string }) => [v.version, v.message])).toEqual([[1, "Copied from orig v2"]]);
    const v1 = await call(versionRoute.GET, { caller: owner, params: { team, pipeline: "orig-copy", version: "1" } });
    expect(v1.body.pipeline.nodes.find((n: { id: string }) => n.id === "f").config.predicate).toBe("n > 5");

    const audit = await prisma().auditLog.findMany({ where: { entityId: dup.body.id } });
    expect(audit.map((a) => [a.action, a.details])).toEqual([["pipeline.duplicate", { name: "orig-copy", from: "orig", fromVersion: 2 }]]);

    const taken = await call(duplicateRoute.POST, { caller: owner, params: { team, pipeline: "orig" }, body: { name: "orig-copy" } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.message).toContain('already has a pipeline named "orig-copy"');
    const badName = await call(duplicateRoute.POST, { caller: owner, params: { team, pipeline: "orig" }, body: { name: "Orig Copy" } });
    expect(badName.status).toBe(422);
    expect(badName.body.error.details[0].path).toEqual(["name"]);
  });

  it("lets only editors of the team duplicate or delete", async () => {
    expect((await call(duplicateRoute.POST, { caller: viewer, params: { team, pipeline: "orig" }, body: { name: "by-viewer" } })).status).toBe(403);
    expect((await call(duplicateRoute.POST, { caller: outsider, params: { team, pipeline: "orig" }, body: { name: "by-outsider" } })).status).toBe(403);
    expect((await call(duplicateRoute.POST, { params: { team, pipeline: "orig" }, body: { name: "anon" } })).status).toBe(401);
    expect((await call(pipelineRoute.DELETE, { method: "DELETE", caller: viewer, params: { team, pipeline: "orig-copy" } })).status).toBe(403);
    expect((await call(pipelineRoute.DELETE, { method: "DELETE", caller: outsider, params: { team, pipeline: "orig-copy" } })).status).toBe(403);
    expect((await call(duplicateRoute.POST, { caller: owner, params: { team, pipeline: "missing" }, body: { name: "x-copy" } })).status).toBe(404);
  });

  it("shows live task numbers in the list, refuses to delete a running pipeline, and deletes it once stopped", async () => {
    expect((await call(recordsRoute.POST, { caller: owner, params: { team, stream: src }, body: { records: [1, 7, 9].map((n) => ({ value: { id: `r${n}`, n } })) } })).status).toBe(200);
    const dep = await call(deployRoute.POST, { caller: owner, params: { team, pipeline: "orig" }, body: {} });
    expect(dep.status, JSON.stringify(dep.body)).toBe(200);

    const listed = await waitFor(
      "a running task in the overview",
      async () => (await call(pipelinesRoute.GET, { caller: viewer, params: { team }, path: "/?live=1" })).body.pipelines as { name: string; live: { tasksRunning: number; tasks: number; consumerLag: number } | null }[],
      (ps) => ps.find((p) => p.name === "orig")?.live?.tasksRunning === 1,
    );
    expect(listed.find((p) => p.name === "orig")!.live).toMatchObject({ tasks: 1, tasksRunning: 1, failed: 0 });
    expect(listed.find((p) => p.name === "orig-copy")!.live).toBeNull();
    // The canvas colours each node of the deployed version from the status' per-node view.
    // Keep records flowing (a quarter pass the Filter "n > 5") until the rates show.
    let flowing = true;
    const producer = (async () => {
      for (let i = 0; flowing; i++) {
        await call(recordsRoute.POST, { caller: owner, params: { team, stream: src }, body: { records: Array.from({ length: 40 }, (_, k) => ({ value: { id: `b${i}-${k}`, n: k % 4 === 0 ? 9 : 1 } })) } });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const status = await waitFor(
      "per-node rates",
      async () => (await call(statusRoute.GET, { caller: viewer, params: { team, pipeline: "orig" } })).body,
      (s) => s.nodes?.f?.state === "running" && s.nodes.s.recordsPerSec > 0 && s.nodes.o.recordsPerSec > 0,
    ).finally(async () => {
      flowing = false;
      await producer;
    });
    expect(Object.keys(status.nodes).sort()).toEqual(["f", "o", "s"]);
    expect(status.nodes.f.recordsPerSec).toBeLessThan(status.nodes.s.recordsPerSec);
    expect(status.nodes.o.recordsPerSec).toBe(status.nodes.f.recordsPerSec);
    // Without ?live=1 the list stays the cheap Postgres-only one.
    const plain = await call(pipelinesRoute.GET, { caller: viewer, params: { team } });
    expect(plain.body.pipelines.find((p: { name: string }) => p.name === "orig")).not.toHaveProperty("live");

    const refused = await call(pipelineRoute.DELETE, { method: "DELETE", caller: owner, params: { team, pipeline: "orig" } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain("is deployed: stop it first");

    expect((await call(stopRoute.POST, { caller: owner, params: { team, pipeline: "orig" } })).status).toBe(200);
    const deleted = await call(pipelineRoute.DELETE, { method: "DELETE", caller: owner, params: { team, pipeline: "orig" } });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect((await call(pipelineRoute.GET, { caller: owner, params: { team, pipeline: "orig" } })).status).toBe(404);
    const remaining = await call(pipelinesRoute.GET, { caller: owner, params: { team } });
    expect(remaining.body.pipelines.map((p: { name: string }) => p.name)).toEqual(["orig-copy"]);
    // The copy does not depend on the original's versions.
    expect((await call(versionRoute.GET, { caller: owner, params: { team, pipeline: "orig-copy", version: "1" } })).status).toBe(200);
  });
});
