import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as members from "@/app/api/v1/teams/[team]/members/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import * as statsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/stats/route";
import * as manyStatsRoute from "@/app/api/v1/teams/[team]/stream-stats/route";
import { closeKafka, kafkaAdmin } from "@/lib/kafka/shared";
import { call, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";
import { RATE_WINDOW_MS, SIZE_SAMPLE_PER_PARTITION } from "./stats";

const hasKafka = !!process.env.KAFKA_BROKERS;
let owner: TestUser, viewer: TestUser, outsider: TestUser;
let team: string, otherTeam: string;
const schema = [{ name: "user_id", type: "string" }, { name: "n", type: "int" }];

beforeAll(async () => {
  [owner, viewer, outsider] = await Promise.all([signUp(), signUp(), signUp()]);
  [team, otherTeam] = [uniqueName("stats"), uniqueName("stats-other")];
  await call(teams.POST, { caller: owner, body: { name: "Stats", slug: team } });
  await call(teams.POST, { caller: outsider, body: { name: "Other", slug: otherTeam } });
  await call(members.POST, { caller: owner, params: { team }, body: { email: viewer.email, role: "viewer" } });
});
afterAll(() => closeKafka());

const createStream = async (visibility: string, partitions = 2) => {
  const name = `dwd.${uniqueName("stats")}`;
  const res = await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name, layer: "DWD", partitions, schema, visibility } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return name;
};

describe.skipIf(!hasKafka)("stream stats", () => {
  it("counts records, records in the last minute, the last record time and the size from the broker", async () => {
    const stream = await createStream("team");
    const empty = await call(statsRoute.GET, { caller: owner, params: { team, stream } });
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ stream, records: 0, totalWritten: 0, recordsLastMinute: 0, recordsPerSecond: 0, lastRecordAt: null, bytes: { estimate: 0, sampledRecords: 0 } });

    const now = Date.now();
    const old = now - 10 * 60_000;
    // 3 records from ten minutes ago on partition 0, then 5 fresh ones over both partitions.
    const records = [
      ...[0, 1, 2].map((i) => ({ key: `old-${i}`, value: { user_id: `u${i}`, n: i }, timestamp: old + i, partition: 0 })),
      ...[0, 1, 2, 3, 4].map((i) => ({ key: `new-${i}`, value: { user_id: `user-${i}`, n: 100 + i }, timestamp: now - 1_000 + i, partition: i % 2, ...(i === 4 ? { headers: { source: "test" } } : {}) })),
    ];
    const produced = await call(recordsRoute.POST, { caller: owner, params: { team, stream }, body: { records } });
    expect(produced.status, JSON.stringify(produced.body)).toBe(200);

    const res = await call(statsRoute.GET, { caller: viewer, params: { team, stream } });
    expect(res.status).toBe(200);
    const s = res.body;
    expect(s.records).toBe(8);
    expect(s.totalWritten).toBe(8);
    expect(s.recordsLastMinute).toBe(5);
    expect(s.recordsPerSecond).toBeCloseTo(5 / (RATE_WINDOW_MS / 1000), 6);
    expect(s.lastRecordAt).toBe(now - 1_000 + 4);
    // The produce is one transaction: each partition ends with its commit marker, an offset that is no record.
    expect(s.partitions).toEqual([
      { partition: 0, low: "0", high: "7", records: 6, recordsLastMinute: 3, lastRecordAt: now - 1_000 + 4 },
      { partition: 1, low: "0", high: "3", records: 2, recordsLastMinute: 2, lastRecordAt: now - 1_000 + 3 },
    ]);
    // All 8 records fit in the sample, so the "estimate" is the exact payload size.
    expect(8).toBeLessThanOrEqual(SIZE_SAMPLE_PER_PARTITION * 2);
    const payload = records.reduce((n, r) => n + Buffer.byteLength(r.key) + Buffer.byteLength(JSON.stringify(r.value)) + ("headers" in r ? "source".length + "test".length : 0), 0);
    expect(s.bytes).toEqual({ estimate: payload, averageRecordBytes: Math.round(payload / 8), sampledRecords: 8, method: "sampled-average" });
  });

  it("estimates the size from the newest records when a partition holds more than the sample", async () => {
    const stream = await createStream("team", 1);
    const n = SIZE_SAMPLE_PER_PARTITION * 3;
    // Older records are small, the newest SIZE_SAMPLE_PER_PARTITION are large: the estimate follows the newest.
    const records = Array.from({ length: n }, (_, i) => ({ key: null, value: { user_id: i < n - SIZE_SAMPLE_PER_PARTITION ? "a" : "b".repeat(50), n: 1 } }));
    expect((await call(recordsRoute.POST, { caller: owner, params: { team, stream }, body: { records } })).status).toBe(200);
    const s = (await call(statsRoute.GET, { caller: owner, params: { team, stream } })).body;
    const newestSize = Buffer.byteLength(JSON.stringify(records[n - 1].value));
    expect(s.records).toBe(n);
    expect(s.recordsLastMinute).toBe(n);
    expect(s.bytes).toEqual({ estimate: newestSize * n, averageRecordBytes: newestSize, sampledRecords: SIZE_SAMPLE_PER_PARTITION, method: "sampled-average" });
  });

  it("gives no stats to teams that cannot read the stream", async () => {
    const listed = await createStream("team");
    const hidden = await createStream("private");
    const asOther = await call(statsRoute.GET, { caller: outsider, params: { team: otherTeam, stream: listed } });
    expect(asOther.status).toBe(403);
    expect(asOther.body.error.message).toContain("request access");
    const asOtherHidden = await call(statsRoute.GET, { caller: outsider, params: { team: otherTeam, stream: hidden } });
    expect(asOtherHidden.status).toBe(404);
    // Not a member of the owner team: the same 403 as every team route.
    expect((await call(statsRoute.GET, { caller: outsider, params: { team, stream: listed } })).status).toBe(403);
    expect((await call(statsRoute.GET, { params: { team, stream: listed } })).status).toBe(401);
  });

  it("says the topic is missing (503) when it was deleted behind the catalog, without breaking other streams", async () => {
    const stream = await createStream("team", 1);
    await (await kafkaAdmin()).deleteTopics({ topics: [stream] });
    const res = await call(statsRoute.GET, { caller: owner, params: { team, stream } });
    expect(res.status).toBe(503);
    expect(res.body.error.message).toBe(`The topic of stream "${stream}" is missing on the broker (deleted outside Sluice?): its records are gone; recreate the stream or restore the topic.`);
    // …and asking did not break the process's shared Kafka admin for every other stream.
    const other = await createStream("team", 1);
    expect((await call(statsRoute.GET, { caller: owner, params: { team, stream: other } })).status).toBe(200);
    const many = await call(manyStatsRoute.GET, { caller: owner, params: { team }, path: `/?streams=${stream},${other}` });
    expect(many.body.stats.map((s: { stream: string }) => s.stream)).toEqual([other]);
  });

  it("answers the catalog's stats in one request, leaving out streams the team cannot read", async () => {
    const mine = await createStream("team", 1);
    const listed = await createStream("team", 1);
    const hidden = await createStream("private", 1);
    const open = await createStream("public", 1);
    expect((await call(recordsRoute.POST, { caller: owner, params: { team, stream: mine }, body: { records: [{ value: { user_id: "a", n: 1 } }, { value: { user_id: "b", n: 2 } }] } })).status).toBe(200);
    expect((await call(recordsRoute.POST, { caller: owner, params: { team, stream: open }, body: { records: [{ value: { user_id: "c", n: 3 } }] } })).status).toBe(200);
    const names = [mine, listed, hidden, open, `dwd.${uniqueName("no-such")}`].join(",");

    const asOwner = await call(manyStatsRoute.GET, { caller: viewer, params: { team }, path: `/?streams=${names}` });
    expect(asOwner.status).toBe(200);
    expect(asOwner.body.stats.map((s: { stream: string; records: number }) => [s.stream, s.records])).toEqual([[mine, 2], [listed, 0], [hidden, 0], [open, 1]].sort((x, y) => String(x[0]).localeCompare(String(y[0]))));

    // Another team reads only the public one; the listed and private ones are simply absent.
    const asOther = await call(manyStatsRoute.GET, { caller: outsider, params: { team: otherTeam }, path: `/?streams=${names}` });
    expect(asOther.status).toBe(200);
    expect(asOther.body.stats.map((s: { stream: string }) => s.stream)).toEqual([open]);
    expect(JSON.stringify(asOther.body)).not.toContain(hidden);

    expect((await call(manyStatsRoute.GET, { caller: outsider, params: { team }, path: `/?streams=${names}` })).status).toBe(403);
    expect((await call(manyStatsRoute.GET, { params: { team }, path: `/?streams=${names}` })).status).toBe(401);
    const bad = await call(manyStatsRoute.GET, { caller: owner, params: { team }, path: "/?streams=Not%20A%20Name" });
    expect(bad.status).toBe(422);
  });
});
