import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import * as rulesRoute from "@/app/api/v1/teams/[team]/alerts/rules/route";
import * as historyRoute from "@/app/api/v1/teams/[team]/alerts/history/route";
import { closeDeliveryQueue } from "@/lib/alerts/deliveries";
import { evaluateAlertsOnce } from "@/lib/alerts/evaluator";
import { closeKafka } from "@/lib/kafka/shared";
import { createRedis } from "@/lib/redis/client";
import { call, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";

const hasKafka = !!process.env.KAFKA_BROKERS;
const redis = hasKafka ? createRedis() : undefined;
let owner: TestUser;
let team: string;
let stream: string;

beforeAll(async () => {
  if (!hasKafka) return;
  owner = await signUp();
  team = uniqueName("streams-alerts");
  expect((await call(teams.POST, { caller: owner, body: { name: "Stream alerts", slug: team } })).status).toBe(201);
  stream = `ods.${uniqueName("events")}`;
  expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name: stream, layer: "ODS", partitions: 2, schema: [{ name: "id", type: "string" }] } })).status).toBe(201);
});

afterAll(async () => {
  await closeDeliveryQueue();
  await closeKafka();
  redis?.disconnect();
});

const produce = async (n: number) => {
  const records = Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: { id: String(i) } }));
  expect((await call(recordsRoute.POST, { caller: owner, params: { team, stream }, body: { records } })).status).toBe(200);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasKafka)("stream alert rules", () => {
  it("fire when a stream goes quiet or slow, from its offsets, and resolve when records flow again", async () => {
    const quiet = await call(rulesRoute.POST, { caller: owner, params: { team }, body: { name: "quiet", stream, condition: "no_input", for: "10s" } });
    expect(quiet.status, JSON.stringify(quiet.body)).toBe(201);
    const slow = await call(rulesRoute.POST, { caller: owner, params: { team }, body: { name: "slow", stream, condition: "throughput_below", threshold: 5, for: "1s" } });
    expect(slow.status).toBe(201);
    const events = (r: { transitions: { ruleId: string; event: string }[] }, id: string) => r.transitions.filter((t) => t.ruleId === id).map((t) => t.event);

    // First round: offsets seen for the first time; no rate yet, and silence only starts counting now.
    const r1 = await evaluateAlertsOnce(redis!);
    expect([events(r1, quiet.body.id), events(r1, slow.body.id)]).toEqual([[], []]);
    // Records arrive fast enough: the rate between rounds is above the floor.
    await produce(50);
    await sleep(1_000);
    const r2 = await evaluateAlertsOnce(redis!);
    expect([events(r2, quiet.body.id), events(r2, slow.body.id)]).toEqual([[], []]);
    // Then nothing: below the floor (pending, firing after 1 s), and after 10 s of silence, no input.
    await sleep(1_000);
    expect(events(await evaluateAlertsOnce(redis!), slow.body.id)).toEqual(["pending"]);
    await sleep(1_100);
    expect(events(await evaluateAlertsOnce(redis!), slow.body.id)).toEqual(["firing"]);
    await sleep(8_500);
    const r5 = await evaluateAlertsOnce(redis!);
    expect(events(r5, quiet.body.id)).toEqual(["firing"]);
    // Records again: both resolve.
    await produce(200);
    const r6 = await evaluateAlertsOnce(redis!);
    expect([events(r6, quiet.body.id), events(r6, slow.body.id)]).toEqual([["resolved"], ["resolved"]]);
    const history = (await call(historyRoute.GET, { caller: owner, params: { team }, path: "/?rule=slow" })).body.events.map((e: { kind: string }) => e.kind);
    expect(history).toEqual(["resolved", "firing", "pending"]);
  }, 60_000);
});
