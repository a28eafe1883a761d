import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as pipelinesRoute from "@/app/api/v1/teams/[team]/pipelines/route";
import * as versionsRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/versions/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import { closeKafka } from "@/lib/kafka/shared";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { call, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";

const hasKafka = !!process.env.KAFKA_BROKERS;
let a: TestUser, b: TestUser;
let A: string, B: string;
let src: string, produced: string;
const schema = [{ name: "user_id", type: "string" }, { name: "amount", type: "float" }, { name: "country", type: "string" }];
const outSchema = [{ name: "user", type: "string" }, { name: "amount", type: "float" }];

function pipeline(sink: string, ids = ["s", "f", "p", "o"], predicate = "amount > 10.0", reverseFields = false) {
  const fields = [{ name: "user", from: "user_id" }, { name: "amount", from: "amount" }];
  return {
    version: 1,
    nodes: [
      { id: ids[0], type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
      { id: ids[1], type: "filter", config: { predicate }, position: { x: 100, y: 7 } },
      { id: ids[2], type: "projection", config: { fields: reverseFields ? [...fields].reverse() : fields }, position: { x: 200, y: 3 } },
      { id: ids[3], type: "sink", config: { stream: sink }, position: { x: 300, y: 0 } },
    ],
    edges: [{ source: ids[0], target: ids[1] }, { source: ids[1], target: ids[2] }, { source: ids[2], target: ids[3] }],
  };
}

beforeAll(async () => {
  if (!hasKafka) return;
  [a, b] = await Promise.all([signUp(), signUp()]);
  [A, B] = [uniqueName("dup-a"), uniqueName("dup-b")];
  await call(teams.POST, { caller: a, body: { name: A, slug: A } });
  await call(teams.POST, { caller: b, body: { name: B, slug: B } });
  src = `ods.${uniqueName("clicks")}`;
  produced = `dwd.${uniqueName("big-clicks")}`;
  await call(streamsRoute.POST, { caller: a, params: { team: A }, body: { name: src, layer: "ODS", schema, visibility: "public" } });
  await call(streamsRoute.POST, { caller: a, params: { team: A }, body: { name: produced, layer: "DWD", schema: outSchema, visibility: "team" } });
  await call(pipelinesRoute.POST, { caller: a, params: { team: A }, body: { name: "big-clicks" } });
  expect((await call(versionsRoute.POST, { caller: a, params: { team: A, pipeline: "big-clicks" }, body: { pipeline: pipeline(produced) } })).status).toBe(201);
  expect((await call(deployRoute.POST, { caller: a, params: { team: A, pipeline: "big-clicks" }, body: {} })).status).toBe(200);
  await call(stopRoute.POST, { caller: a, params: { team: A, pipeline: "big-clicks" } });
});
afterAll(async () => {
  await closeTaskQueue();
  await closeKafka();
});

async function saveAsB(def: unknown) {
  const mine = `dwd.${uniqueName("mine")}`;
  await call(streamsRoute.POST, { caller: b, params: { team: B }, body: { name: mine, layer: "DWD", schema: outSchema } });
  const name = uniqueName("p");
  await call(pipelinesRoute.POST, { caller: b, params: { team: B }, body: { name } });
  const res = await call(versionsRoute.POST, { caller: b, params: { team: B, pipeline: name }, body: { pipeline: typeof def === "function" ? def(mine) : def } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.warnings.filter((w: { code: string }) => w.code === "duplicate-stream");
}

describe.skipIf(!hasKafka)("duplicate-stream detection", () => {
  it("tells another team that an equivalent stream exists, despite renamed nodes, moved nodes and reordered fields", async () => {
    const found = await saveAsB((sink: string) => pipeline(sink, ["src1", "keep-big", "shape", "out"], "amount  >  10.0", true));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ nodeId: "out", severity: "info" });
    expect(found[0].message).toContain(produced);
    expect(found[0].message).toContain(`request access from team "${A}"`);
  });

  it("does not claim equivalence for different logic", async () => {
    expect(await saveAsB((sink: string) => pipeline(sink, undefined, "amount > 11.0"))).toEqual([]);
  });
});
