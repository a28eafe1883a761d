import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teamsRoute from "@/app/api/v1/teams/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as pipelinesRoute from "@/app/api/v1/teams/[team]/pipelines/route";
import { closeKafka } from "@/lib/kafka/shared";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { closeRedis } from "@/lib/redis/client";
import { BASE, call, copyPipeline, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";

/**
 * Every /api/v1 route, fed malformed input: no request may answer 500.
 * Found before (issue 16, Low): `%00` in a path, an invalid `?layer=`, a
 * deeply nested record value, a 50 MB record. Each route is called with a
 * valid caller and valid path parameters except for one bad one at a time, with
 * bad query strings, and (for writes) with bad bodies; a 4xx with a JSON error
 * is the right answer, and so is a 2xx where the input happens to be fine.
 */
type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;
const modules = import.meta.glob<Record<string, unknown>>("./**/route.ts", { eager: true });

const hasKafka = !!process.env.KAFKA_BROKERS;
let owner: TestUser;
const good: Record<string, string> = {};

const badParams = ["\u0000", "a\u0000b", "x".repeat(5_000), "../..", "%", "é", " ", "-1", "1e309", "NaN", "\u202e"];
const badQueries = [
  "layer=NOPE", "layer=", "limit=-1", "limit=abc", "limit=1e9", "depth=abc", "depth=999", "fromOffset=x", "fromOffset=-1&partition=0", "partition=-5", "partition=99999999999999999999",
  "fromTimestamp=abc", "toTimestamp=-1", "q=%00", "tag=%00", "owner=%00", "field=%00", "live=1", "status=weird", "direction=sideways", "format=bogus", "version=abc",
  "version=-1", "streams=", "streams=%00", `streams=${"a,".repeat(500)}`, "force=maybe", "bootstrapServers=%00",
];
const deep = "[".repeat(100_000) + "]".repeat(100_000);
const badBodies = (): string[] => [
  "{", "[]", "null", "42", '"text"', "{}", `{"x":${deep}}`, '{"name":5,"records":"x","pipeline":7,"parallelism":"x","version":-1,"schema":{},"sql":5}',
  '{"name":"\u0000","description":"\u0000","slug":"\u0000","email":"\u0000","reason":"\u0000","note":"\u0000"}',
  '{"records":[{"value":{"a":1},"partition":99999999999}]}', '{"records":[{"value":null,"timestamp":-1}]}', `{"records":[{"value":${deep}}]}`,
  '{"pipeline":{"version":1,"nodes":[{"id":"\u0000","type":"source","config":{"stream":"\u0000"}}],"edges":[{"source":"\u0000","target":"x"}]}}',
  '{"pipeline":{"version":1,"nodes":"x","edges":5}}', '{"schema":[{"name":"a","type":{"struct":{}}}]}', '{"sql":"\u0000"}', '{"role":"god"}',
  // A raw NUL is not JSON (422); an escaped one parses, and Postgres can store it neither in text nor in jsonb.
  '{"name":"a\\u0000b","description":"a\\u0000b","slug":"a\\u0000b","email":"a\\u0000b@x.test","reason":"a\\u0000b","note":"a\\u0000b","message":"a\\u0000b","tags":["a\\u0000b"]}',
  `{"sql":"SELECT n FROM \`${good.stream}\` WHERE string(n) = '\\u0000'"}`,
  // A valid pipeline whose expression holds an escaped NUL (stored as jsonb).
  JSON.stringify({ name: "fuzz-nul", message: "a\u0000b", pipeline: nulPipeline() }),
];
const nulPipeline = () => ({
  version: 1,
  nodes: [
    { id: "s", type: "source", config: { stream: good.stream }, position: { x: 0, y: 0 } },
    { id: "f", type: "filter", config: { predicate: "string(n) != '\u0000'" }, position: { x: 1, y: 0 } },
    { id: "o", type: "sink", config: { stream: good.sink }, position: { x: 2, y: 0 } },
  ],
  edges: [{ source: "s", target: "f" }, { source: "f", target: "o" }],
});

/** The route's path with its params, e.g. /teams/:team/streams/:stream/records. */
const routePath = (file: string) => file.replace(/^\.\//, "/api/v1/").replace(/\/route\.ts$/, "");
const paramNames = (file: string) => [...file.matchAll(/\[(\w+)\]/g)].map((m) => m[1]);

async function send(handler: Handler, method: string, path: string, params: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { origin: BASE, ...owner.headers, ...(body !== undefined ? { "content-type": "application/json" } : {}) };
  const res = await handler(new Request(BASE + path, { method, headers, body }), { params: Promise.resolve(params) });
  // Live streams (tail, preview) answer with an SSE stream that does not end: the status is the answer.
  if (res.headers.get("content-type")?.includes("text/event-stream")) {
    await res.body?.cancel();
    return { status: res.status, text: "" };
  }
  return { status: res.status, text: await res.text() };
}

beforeAll(async () => {
  if (!hasKafka) return;
  owner = await signUp();
  good.team = uniqueName("fuzz");
  expect((await call(teamsRoute.POST, { caller: owner, body: { name: "Fuzz", slug: good.team } })).status).toBe(201);
  good.stream = `ods.${uniqueName("fuzz")}`;
  const sink = `dwd.${uniqueName("fuzz")}`;
  for (const name of [good.stream, sink]) {
    expect((await call(streamsRoute.POST, { caller: owner, params: { team: good.team }, body: { name, layer: "ODS", partitions: 1, schema: [{ name: "n", type: "int" }] } })).status).toBe(201);
  }
  good.sink = sink;
  good.pipeline = "fuzz-pipe";
  expect((await call(pipelinesRoute.POST, { caller: owner, params: { team: good.team }, body: { name: good.pipeline, pipeline: copyPipeline(good.stream, sink) } })).status).toBe(201);
  Object.assign(good, { version: "1", function: "nope", tokenId: "nope", userId: "nope", grant: "nope", decision: "approve", token: "nope" });
});

afterAll(async () => {
  await Promise.allSettled([closeTaskQueue(), closeKafka(), closeRedis()]);
});

describe.skipIf(!hasKafka)("bad input on every /api/v1 route", () => {
  it("is answered with a 4xx (or accepted), never a 500", async () => {
    const failures: string[] = [];
    let calls = 0;
    const check = async (label: string, run: () => Promise<{ status: number; text: string }>) => {
      calls++;
      let r: { status: number; text: string };
      try {
        r = await run();
      } catch (e) {
        failures.push(`${label}: threw ${(e as Error).message}`);
        return;
      }
      if (r.status >= 500) failures.push(`${label}: ${r.status} ${r.text.slice(0, 200)}`);
      else if (r.status >= 400 && !/"error":\{"code":"/.test(r.text)) failures.push(`${label}: ${r.status} without a JSON error: ${r.text.slice(0, 200)}`);
    };
    const files = Object.keys(modules).filter((f) => !f.includes("auth")).sort();
    expect(files.length).toBeGreaterThan(30);
    for (const file of files) {
      const names = paramNames(file);
      const params = Object.fromEntries(names.map((n) => [n, good[n]]));
      const path = (p: Record<string, string>) => names.reduce((acc, n) => acc.replace(`[${n}]`, encodeURIComponent(p[n])), routePath(file));
      for (const method of ["GET", "POST", "PATCH", "PUT", "DELETE"]) {
        const handler = modules[file][method] as Handler | undefined;
        if (!handler) continue;
        const writes = method !== "GET";
        // One bad path parameter at a time (never the good ones together: a DELETE with them would delete the fixtures).
        for (const n of names) {
          for (const bad of badParams) {
            const p = { ...params, [n]: bad };
            await check(`${method} ${routePath(file)} with ${n}=${JSON.stringify(bad.slice(0, 20))}`, () => send(handler, method, path(p), p, writes ? "{}" : undefined));
          }
        }
        if (method === "DELETE") continue;
        for (const q of badQueries) await check(`${method} ${routePath(file)}?${q.slice(0, 40)}`, () => send(handler, method, `${path(params)}?${q}`, params, writes ? "{}" : undefined));
        if (!writes) continue;
        for (const body of badBodies()) await check(`${method} ${routePath(file)} body ${body.slice(0, 40)}`, () => send(handler, method, path(params), params, body));
      }
    }
    expect(calls).toBeGreaterThan(1_000);
    expect(failures).toEqual([]);
  });
});

describe("request body limit on better-auth's routes", () => {
  it("answers 413 for a 50 MB sign-in body, without reading it in full", async () => {
    const auth = await import("@/app/api/auth/[...all]/route");
    let pulled = 0;
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 50 * 1024 * 1024) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const res = await auth.POST(new Request(`${BASE}/api/auth/sign-in/email`, { method: "POST", headers: { origin: BASE, "content-type": "application/json" }, body, duplex: "half" } as RequestInit));
    expect(res.status).toBe(413);
    expect((await res.json()).error.message).toMatch(/SLUICE_MAX_BODY_BYTES/);
    expect(pulled).toBeLessThan(20 * 1024 * 1024);
  });
});
