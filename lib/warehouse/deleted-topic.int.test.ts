import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as streamRoute from "@/app/api/v1/teams/[team]/streams/[stream]/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import { closeKafka } from "@/lib/kafka/shared";
import { call, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";

const hasKafka = !!process.env.KAFKA_BROKERS;
let owner: TestUser;
let team: string;
const schema = [{ name: "n", type: "int" }];

beforeAll(async () => {
  if (!hasKafka) return;
  owner = await signUp();
  team = uniqueName("deleted");
  await call(teams.POST, { caller: owner, body: { name: "Deleted", slug: team } });
});
afterAll(() => closeKafka());

const create = async () => {
  const name = `ods.${uniqueName("gone")}`;
  expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name, layer: "ODS", partitions: 1, schema } })).status).toBe(201);
  return name;
};

describe.skipIf(!hasKafka)("a deleted stream's topic", () => {
  it("does not break producing to and reading other streams in the same process", async () => {
    const gone = await create();
    // The shared producer and admin now know the topic...
    expect((await call(recordsRoute.POST, { caller: owner, params: { team, stream: gone }, body: { records: [{ value: { n: 1 } }] } })).status).toBe(200);
    expect((await call(recordsRoute.GET, { caller: owner, params: { team, stream: gone }, path: "/?limit=5" })).body.records).toHaveLength(1);
    // ...and it is deleted.
    expect((await call(streamRoute.DELETE, { caller: owner, params: { team, stream: gone } })).status).toBe(200);
    const next = await create();
    const produced = await call(recordsRoute.POST, { caller: owner, params: { team, stream: next }, body: { records: [{ value: { n: 2 } }] } });
    expect(produced.status, JSON.stringify(produced.body)).toBe(200);
    const read = await call(recordsRoute.GET, { caller: owner, params: { team, stream: next }, path: "/?limit=5" });
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body.records.map((r: { value: unknown }) => r.value)).toEqual([{ n: 2 }]);
  });
});
