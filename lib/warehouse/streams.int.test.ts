import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as streamRoute from "@/app/api/v1/teams/[team]/streams/[stream]/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import * as tailRoute from "@/app/api/v1/teams/[team]/streams/[stream]/tail/route";
import * as teams from "@/app/api/v1/teams/route";
import * as members from "@/app/api/v1/teams/[team]/members/route";
import { closeKafka, kafkaAdmin } from "@/lib/kafka/shared";
import { BASE, call, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";

const hasKafka = !!process.env.KAFKA_BROKERS;
let owner: TestUser, viewer: TestUser, outsider: TestUser;
let team: string, otherTeam: string;

const schema = [
  { name: "user_id", type: "string" },
  { name: "ts", type: "timestamp" },
  { name: "amount", type: "float", nullable: true },
];

beforeAll(async () => {
  [owner, viewer, outsider] = await Promise.all([signUp(), signUp(), signUp()]);
  team = uniqueName("wh");
  otherTeam = uniqueName("wh-other");
  await call(teams.POST, { caller: owner, body: { name: "Warehouse", slug: team } });
  await call(teams.POST, { caller: outsider, body: { name: "Other", slug: otherTeam } });
  await call(members.POST, { caller: owner, params: { team }, body: { email: viewer.email, role: "viewer" } });
});
afterAll(() => closeKafka());

describe.skipIf(!hasKafka)("streams API", () => {
  it("creates a stream with its topic and schema v1, lists and gets it", async () => {
    const name = `ods.${uniqueName("clicks")}`;
    const res = await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name, layer: "ODS", partitions: 2, schema, tags: ["clicks"] } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name, layer: "ODS", partitions: 2, schemaVersion: 1, access: "owner", visibility: "team" });
    const admin = await kafkaAdmin();
    const meta = await admin.fetchTopicMetadata({ topics: [name] });
    expect(meta.topics[0].partitions).toHaveLength(2);

    const list = await call(streamsRoute.GET, { caller: viewer, params: { team }, path: `/?q=clicks` });
    expect(list.body.streams.map((s: { name: string }) => s.name)).toContain(name);
    const got = await call(streamRoute.GET, { caller: viewer, params: { team, stream: name } });
    expect(got.body.schema).toEqual(schema);
  });

  it("searches the catalog by tag, layer, owner and field name", async () => {
    const tag = `t${Date.now().toString(36)}`;
    const name = `dws.${uniqueName("geo")}`;
    await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name, layer: "DWS", tags: [tag], schema: [...schema, { name: "geo", type: { struct: [{ name: "country_code", type: "string" }] } }] } });
    const names = async (query: string) => (await call(streamsRoute.GET, { caller: viewer, params: { team }, path: `/?${query}` })).body.streams.map((s: { name: string }) => s.name);
    expect(await names(`tag=${tag}`)).toEqual([name]);
    expect(await names(`tag=${tag}&layer=ODS`)).toEqual([]);
    expect(await names(`tag=${tag}&owner=${team}`)).toEqual([name]);
    expect(await names(`tag=${tag}&owner=${otherTeam}`)).toEqual([]);
    expect(await names(`field=country_code&owner=${team}`)).toEqual([name]);
    expect(await names(`field=geo.country_code&tag=${tag}`)).toEqual([name]);
    expect(await names(`field=no_such_field&tag=${tag}`)).toEqual([]);
  });

  it("refuses a duplicate name and a viewer's create", async () => {
    const name = `ods.${uniqueName("dup")}`;
    expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name, layer: "ODS", schema } })).status).toBe(201);
    const dup = await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name, layer: "DWD", schema } });
    expect(dup.status).toBe(409);
    const asViewer = await call(streamsRoute.POST, { caller: viewer, params: { team }, body: { name: `ods.${uniqueName("v")}`, layer: "ODS", schema } });
    expect(asViewer.status).toBe(403);
  });

  it("produces schema-checked records and reads them back by offset, by time and newest", async () => {
    const name = `dwd.${uniqueName("orders")}`;
    await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name, layer: "DWD", partitions: 1, schema } });
    const bad = await call(recordsRoute.POST, { caller: owner, params: { team, stream: name }, body: { records: [{ value: { user_id: "u1", ts: 1 } }, { value: { user_id: 7, ts: "x" } }] } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { path: unknown[] }) => d.path.join("."))).toEqual(["records.1.value.user_id", "records.1.value.ts"]);

    const base = 1_795_000_000_000;
    const records = Array.from({ length: 30 }, (_, i) => ({ key: `u${i % 3}`, value: { user_id: `u${i % 3}`, ts: base + i * 1000, amount: i }, timestamp: base + i * 1000 }));
    const produced = await call(recordsRoute.POST, { caller: owner, params: { team, stream: name }, body: { records } });
    expect(produced.status).toBe(200);
    expect(produced.body.written).toBe(30);

    const byOffset = await call(recordsRoute.GET, { caller: viewer, params: { team, stream: name }, path: "/?partition=0&fromOffset=10&limit=5" });
    expect(byOffset.status).toBe(200);
    expect(byOffset.body.records.map((r: { offset: string }) => r.offset)).toEqual(["10", "11", "12", "13", "14"]);
    expect(byOffset.body.records[0].value).toEqual(records[10].value);

    const byTime = await call(recordsRoute.GET, { caller: viewer, params: { team, stream: name }, path: `/?fromTimestamp=${base + 20_000}&toTimestamp=${base + 22_000}` });
    expect(byTime.body.records.map((r: { value: { amount: number } }) => r.value.amount)).toEqual([20, 21, 22]);

    const newest = await call(recordsRoute.GET, { caller: viewer, params: { team, stream: name }, path: "/?limit=3" });
    expect(newest.body.records.map((r: { value: { amount: number } }) => r.value.amount)).toEqual([27, 28, 29]);
  });

  it("keeps private streams invisible and unreadable to other teams; team-visible ones listed but not readable", async () => {
    const priv = `ads.${uniqueName("secret")}`;
    const shared = `dws.${uniqueName("shared")}`;
    await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name: priv, layer: "ADS", visibility: "private", schema } });
    await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name: shared, layer: "DWS", visibility: "team", schema } });
    const list = await call(streamsRoute.GET, { caller: outsider, params: { team: otherTeam } });
    const names = list.body.streams.map((s: { name: string }) => s.name);
    expect(names).not.toContain(priv);
    expect(names).toContain(shared);
    expect(list.body.streams.find((s: { name: string }) => s.name === shared).schema).toBeUndefined();
    expect((await call(streamRoute.GET, { caller: outsider, params: { team: otherTeam, stream: priv } })).status).toBe(404);
    const read = await call(recordsRoute.GET, { caller: outsider, params: { team: otherTeam, stream: shared } });
    expect(read.status).toBe(403);
    expect(read.body.error.message).toMatch(/request access/);
    const write = await call(recordsRoute.POST, { caller: outsider, params: { team: otherTeam, stream: shared }, body: { records: [{ value: { user_id: "x", ts: 1 } }] } });
    expect(write.status).toBe(403);
    // And through another team's path: the outsider is not a member of the owner team.
    expect((await call(recordsRoute.GET, { caller: outsider, params: { team, stream: shared } })).status).toBe(403);
  });

  it("tails new records over SSE", async () => {
    const name = `ods.${uniqueName("tail")}`;
    await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name, layer: "ODS", partitions: 2, schema } });
    const ctrl = new AbortController();
    const res = await tailRoute.GET(new Request(`${BASE}/tail`, { headers: owner.headers, signal: ctrl.signal }), { params: Promise.resolve({ team, stream: name }) });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    setTimeout(() => {
      void call(recordsRoute.POST, { caller: owner, params: { team, stream: name }, body: { records: [{ value: { user_id: "live", ts: 5 } }] } });
    }, 300);
    let text = "";
    const deadline = Date.now() + 10_000;
    while (!text.includes("event: records") && Date.now() < deadline) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    ctrl.abort();
    await reader.cancel();
    const data = JSON.parse(text.split("event: records\ndata: ")[1].split("\n")[0]);
    expect(data[0].value).toEqual({ user_id: "live", ts: 5 });
  });

  it("deletes a stream and its topic", async () => {
    const name = `ods.${uniqueName("gone")}`;
    await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name, layer: "ODS", schema } });
    expect((await call(streamRoute.DELETE, { method: "DELETE", caller: viewer, params: { team, stream: name } })).status).toBe(403);
    expect((await call(streamRoute.DELETE, { method: "DELETE", caller: owner, params: { team, stream: name } })).status).toBe(200);
    expect((await call(streamRoute.GET, { caller: owner, params: { team, stream: name } })).status).toBe(404);
    expect(await (await kafkaAdmin()).listTopics()).not.toContain(name);
  });
});
