import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import * as previewRoute from "@/app/api/v1/teams/[team]/pipelines/preview/route";
import { closeKafka, kafkaAdmin, kafkaProducer } from "@/lib/kafka/shared";
import { BASE, call, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";
import { byEventTime, clickKey, clickSchema, countKey, countSchema, multiset, reference, windowCountPipeline, type Click } from "@/scripts/testing/window-workload";
import type { PreviewEvent } from "./events";
import { startPreviewProcessor } from "./processor";
import { closePreviewQueue } from "./start-preview";

const hasKafka = !!process.env.KAFKA_BROKERS;
let user: TestUser;
let team: string;
let processor: { close(): Promise<void> };
let src: string;
let sink: string;
const schema = [{ name: "user_id", type: "string" }, { name: "amount", type: "float" }];

beforeAll(async () => {
  if (!hasKafka) return;
  processor = startPreviewProcessor();
  user = await signUp();
  team = uniqueName("pv");
  await call(teams.POST, { caller: user, body: { name: "Preview", slug: team } });
  src = `ods.${uniqueName("pv-src")}`;
  sink = `dwd.${uniqueName("pv-sink")}`;
  await call(streamsRoute.POST, { caller: user, params: { team }, body: { name: src, layer: "ODS", partitions: 2, schema } });
  await call(streamsRoute.POST, { caller: user, params: { team }, body: { name: sink, layer: "DWD", partitions: 1, schema: [{ name: "user_id", type: "string" }, { name: "cents", type: "int" }] } });
  const records = Array.from({ length: 20 }, (_, i) => ({ value: { user_id: `u${i}`, amount: i * 1.5 } }));
  expect((await call(recordsRoute.POST, { caller: user, params: { team, stream: src }, body: { records } })).status).toBe(200);
  // A record the API would refuse, as a foreign producer could write it.
  await (await kafkaProducer()).send({ topic: src, acks: -1, messages: [{ value: "not json", partition: 0 }] });
});

afterAll(async () => {
  await processor?.close();
  await closePreviewQueue();
  await closeKafka();
});

const graph = (withSink = true) => ({
  version: 1,
  nodes: [
    { id: "src", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
    { id: "big", type: "filter", config: { predicate: "amount > 20.0" }, position: { x: 1, y: 0 } },
    ...(withSink
      ? [
          { id: "shape", type: "projection", config: { fields: [{ name: "user_id", from: "user_id" }, { name: "cents", expr: "int(amount * 100.0)" }] }, position: { x: 2, y: 0 } },
          { id: "out", type: "sink", config: { stream: sink }, position: { x: 3, y: 0 } },
        ]
      : []),
  ],
  edges: [{ source: "src", target: "big" }, ...(withSink ? [{ source: "big", target: "shape" }, { source: "shape", target: "out" }] : [])],
});

async function preview(body: unknown, opts: { abortAfterFirstRows?: boolean } = {}) {
  const ctrl = new AbortController();
  const started = performance.now();
  const res = await previewRoute.POST(
    new Request(`${BASE}/preview`, { method: "POST", headers: { ...user.headers, "content-type": "application/json", origin: BASE }, body: JSON.stringify(body), signal: ctrl.signal }),
    { params: Promise.resolve({ team }) },
  );
  if (res.status !== 200) return { status: res.status, body: await res.json(), events: [] as PreviewEvent[], firstRowsMs: 0 };
  const reader = res.body!.getReader();
  const events: PreviewEvent[] = [];
  let buf = "";
  let firstRowsMs = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += new TextDecoder().decode(value);
    let i: number;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const chunk = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = chunk.split("\n").find((l) => l.startsWith("data: "));
      if (!chunk.includes("event: preview") || !data) continue;
      const e = JSON.parse(data.slice(6)) as PreviewEvent;
      events.push(e);
      if (e.type === "rows" && !firstRowsMs) {
        firstRowsMs = performance.now() - started;
        if (opts.abortAfterFirstRows) ctrl.abort();
      }
    }
    if (ctrl.signal.aborted) break;
  }
  return { status: 200, body: null, events, firstRowsMs };
}

const rowsOf = (events: PreviewEvent[], nodeId: string) => events.flatMap((e) => (e.type === "rows" && e.nodeId === nodeId ? e.rows : []));

describe.skipIf(!hasKafka)("live preview", () => {
  it("runs the graph on the newest records of the source and streams each node's rows, counts and errors — without writing to the sink", async () => {
    const r = await preview({ pipeline: graph(), limit: 100 });
    expect(r.status).toBe(200);
    const types = r.events.map((e) => e.type);
    expect(types[0]).toBe("started");
    expect(types.at(-1)).toBe("done");
    expect(rowsOf(r.events, "big").map((x) => x.amount).sort((a, b) => (a as number) - (b as number))).toEqual([21, 22.5, 24, 25.5, 27, 28.5]);
    expect(rowsOf(r.events, "out")).toHaveLength(6);
    expect(rowsOf(r.events, "out")[0]).toEqual({ user_id: expect.any(String), cents: expect.any(Number) });
    const counts = [...r.events].reverse().find((e) => e.type === "counts") as Extract<PreviewEvent, { type: "counts" }>;
    expect(counts.perNode.big).toEqual({ in: 20, out: 6, filtered: 14, errored: 0 });
    const errors = r.events.flatMap((e) => (e.type === "errors" ? e.errors : []));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ nodeId: "src", source: { topic: src, partition: 0 } });
    const status = [...r.events].reverse().find((e) => e.type === "status") as Extract<PreviewEvent, { type: "status" }>;
    expect(status).toMatchObject({ sampled: 21, produced: 6, errored: 1 });
    // Nothing was written to the sink stream.
    const offsets = await (await kafkaAdmin()).fetchTopicOffsets(sink);
    expect(offsets.map((o) => o.high)).toEqual(["0"]);
    console.log(`preview: first rows after ${r.firstRowsMs.toFixed(0)} ms`);
  });

  it("previews a partial graph (no Sink yet), only for the target node", async () => {
    const r = await preview({ pipeline: graph(false), targetNodeId: "big" });
    expect(r.status).toBe(200);
    expect(new Set(r.events.filter((e) => e.type === "rows").map((e) => (e as { nodeId: string }).nodeId))).toEqual(new Set(["big"]));
    expect(rowsOf(r.events, "big")).toHaveLength(6);
  });

  it("answers 422 with node diagnostics for an invalid graph, before running anything", async () => {
    const bad = graph(false);
    (bad.nodes[1].config as { predicate: string }).predicate = "amout > 1.0";
    const r = await preview({ pipeline: bad });
    expect(r.status).toBe(422);
    expect(r.body.error.details.some((d: { nodeId?: string; message: string }) => d.nodeId === "big" && /amount/.test(d.message))).toBe(true);
  });

  it("tails live records and stops the worker's job when the client disconnects", async () => {
    const { Queue } = await import("bullmq");
    const { QUEUE_PREFIX, queues } = await import("@/lib/queue/contracts");
    const { createRedis, bullmqRedisOptions } = await import("@/lib/redis/client");
    const queue = new Queue(queues.previews, { connection: createRedis(bullmqRedisOptions), prefix: QUEUE_PREFIX });
    const pending = preview({ pipeline: graph(false), mode: "tail", seconds: 60, targetNodeId: "big" }, { abortAfterFirstRows: true });
    await new Promise((r) => setTimeout(r, 1_000));
    await call(recordsRoute.POST, { caller: user, params: { team, stream: src }, body: { records: [{ value: { user_id: "live", amount: 99 } }] } });
    const started = performance.now();
    const r = await pending;
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(rowsOf(r.events, "big")).toEqual([{ user_id: "live", amount: 99 }]);
    // The 60 s tail job ends within a few seconds of the disconnect.
    const deadline = Date.now() + 5_000;
    while ((await queue.getActiveCount()) > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect(await queue.getActiveCount()).toBe(0);
    await queue.close();
  });

  it("a Window over a 4-partition sample gives what production gives on the same records: a partition behind the others is not late", async () => {
    const source = `ods.${uniqueName("pv-clicks")}`;
    const counts = `dws.${uniqueName("pv-counts")}`;
    const lateSink = `dwd.${uniqueName("pv-late")}`;
    for (const [name, layer, partitions, schema] of [[source, "ODS", 4, clickSchema], [counts, "DWS", 1, countSchema], [lateSink, "DWD", 1, clickSchema]] as const) {
      expect((await call(streamsRoute.POST, { caller: user, params: { team }, body: { name, layer, partitions, schema } })).status).toBe(201);
    }
    // Produced round-robin: partitions 0–2 at the current time, partition 3 (a replaying producer) 60 s behind.
    const base = Date.UTC(2026, 11, 4, 9, 0, 0);
    const sent: (Click & { partition: number })[] = [];
    for (let i = 0; i < 50; i++) for (let p = 0; p < 4; p++) sent.push({ ad: `ad-${p}`, ts: base + i * 400 - (p === 3 ? 60_000 : 0), seq: sent.length, partition: p });
    const records = sent.map(({ partition, ...c }, i) => ({ key: c.ad, partition, timestamp: base + i, value: { ...c, pad: null } }));
    expect((await call(recordsRoute.POST, { caller: user, params: { team, stream: source }, body: { records } })).status).toBe(200);
    const def = windowCountPipeline({ source, sink: counts, lateSink, size: "10s", bound: "5s" });
    const r = await preview({ pipeline: def, limit: 1_000 });
    expect(r.status).toBe(200);
    // The reference: the same plan over the records in event-time order; a sample ends with every window closed.
    const expected = await reference(def, source, counts, lateSink, [byEventTime(sent.map(({ partition: _, ...c }) => c))], { flush: true });
    expect(expected.late).toEqual([]);
    expect(expected.out.length).toBeGreaterThan(6);
    expect(multiset(rowsOf(r.events, "late"), clickKey)).toEqual([]);
    expect(multiset(rowsOf(r.events, "out"), countKey)).toEqual(multiset(expected.out, countKey));
  });
});
