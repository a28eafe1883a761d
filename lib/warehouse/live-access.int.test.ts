import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import * as tailRoute from "@/app/api/v1/teams/[team]/streams/[stream]/tail/route";
import * as requestRoute from "@/app/api/v1/teams/[team]/streams/[stream]/access-requests/route";
import * as decisionRoute from "@/app/api/v1/teams/[team]/access-requests/[grant]/[decision]/route";
import * as invitationsRoute from "@/app/api/v1/teams/[team]/invitations/route";
import * as acceptRoute from "@/app/api/v1/invitations/[token]/accept/route";
import * as memberRoute from "@/app/api/v1/teams/[team]/members/[userId]/route";
import * as tokensRoute from "@/app/api/v1/teams/[team]/tokens/route";
import * as tokenRoute from "@/app/api/v1/teams/[team]/tokens/[tokenId]/route";
import * as previewRoute from "@/app/api/v1/teams/[team]/pipelines/preview/route";
import { prisma } from "@/lib/db/prisma";
import { closeKafka } from "@/lib/kafka/shared";
import { QUEUE_PREFIX, queues } from "@/lib/queue/contracts";
import { bullmqRedisOptions, createRedis } from "@/lib/redis/client";
import { startPreviewProcessor } from "@/lib/runtime/preview/processor";
import { closePreviewQueue } from "@/lib/runtime/preview/start-preview";
import { BASE, bearer, call, signUp, signUpWithTeam, uniqueName, type Caller, type TestUser } from "@/scripts/testing/api";
import { readSse, type SseEvent } from "@/scripts/testing/sse";

/**
 * Issue 16, High 1: an open SSE tail kept streaming after the reader's grant
 * was revoked, after the reader left the team and after their API token was
 * revoked; it had no time limit, no per-user limit, and each one opened ~4
 * broker connections. The same held for the live preview.
 */
const hasKafka = !!process.env.KAFKA_BROKERS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Re-checks twice a second here (5 s by default), so revocations show within a second.
process.env.LIVE_ACCESS_RECHECK_MS = "500";

let owner: TestUser;
let ownerTeam: string;
let readerOwner: TestUser;
let readerTeam: string;
let stream: string;
let processor: { close(): Promise<void> };

async function addMember(team: string, teamOwner: TestUser): Promise<TestUser & { id: string }> {
  const u = await signUp();
  const invite = await call(invitationsRoute.POST, { caller: teamOwner, params: { team }, body: { email: u.email, role: "viewer" } });
  expect(invite.status, JSON.stringify(invite.body)).toBe(201);
  expect((await call(acceptRoute.POST, { caller: u, params: { token: invite.body.link.split("/invite/")[1] }, body: {} })).status).toBe(200);
  const { id } = await prisma().user.findUniqueOrThrow({ where: { email: u.email } });
  return { ...u, id };
}

async function grantRead(): Promise<string> {
  const req = await call(requestRoute.POST, { caller: readerOwner, params: { team: readerTeam, stream }, body: { reason: "dashboards" } });
  expect(req.status, JSON.stringify(req.body)).toBe(201);
  expect((await call(decisionRoute.POST, { caller: owner, params: { team: ownerTeam, grant: req.body.id, decision: "approve" }, body: { note: "" } })).status).toBe(200);
  return req.body.id;
}

const revoke = async (grant: string) => expect((await call(decisionRoute.POST, { caller: owner, params: { team: ownerTeam, grant, decision: "revoke" }, body: { note: "" } })).status).toBe(200);

function openTail(caller: Caller, team = readerTeam, name = stream, signal?: AbortSignal) {
  return tailRoute.GET(new Request(`${BASE}/tail`, { headers: { origin: BASE, ...caller.headers }, signal }), { params: Promise.resolve({ team, stream: name }) });
}

const produce = async (n: number) => expect((await call(recordsRoute.POST, { caller: owner, params: { team: ownerTeam, stream }, body: { records: [{ value: { n } }] } })).status).toBe(200);
const received = (events: SseEvent[]) => events.filter((e) => e.event === "records").flatMap((e) => e.data.map((r: { value: { n: number } }) => r.value.n));

/**
 * Opens a tail, checks a record reaches it, runs `revokeAccess`, and returns
 * how the tail ended and what it received after — nothing, with the error last.
 */
async function tailUntilRevoked(caller: Caller, revokeAccess: () => Promise<void>) {
  const res = await openTail(caller);
  expect(res.status).toBe(200);
  let revokedAt = 0;
  let sawFirst = false;
  const reading = readSse(res, {
    until: (e) => {
      if (e.event === "records") sawFirst = true;
      return e.event === "error";
    },
    timeoutMs: 20_000,
  });
  await sleep(800);
  await produce(1);
  for (let i = 0; i < 50 && !sawFirst; i++) await sleep(100);
  expect(sawFirst).toBe(true);
  await revokeAccess();
  revokedAt = Date.now();
  const { events, ended } = await reading;
  const endedAfterMs = Date.now() - revokedAt;
  await produce(2);
  return { events, ended, endedAfterMs, error: events.at(-1)!.data as { code: string; message: string } };
}

beforeAll(async () => {
  if (!hasKafka) return;
  ownerTeam = uniqueName("owner");
  owner = await signUpWithTeam(ownerTeam);
  readerTeam = uniqueName("reader");
  readerOwner = await signUpWithTeam(readerTeam);
  stream = `dwd.${uniqueName("private")}`;
  expect((await call(streamsRoute.POST, { caller: owner, params: { team: ownerTeam }, body: { name: stream, layer: "DWD", visibility: "team", partitions: 2, schema: [{ name: "n", type: "int" }] } })).status).toBe(201);
  processor = startPreviewProcessor();
});

afterAll(async () => {
  await processor?.close();
  await closePreviewQueue();
  await closeKafka();
});

describe.skipIf(!hasKafka)("live tail re-checks access while open", () => {
  it("ends with an error event within a second of the reader's grant being revoked", async () => {
    const grant = await grantRead();
    const r = await tailUntilRevoked(readerOwner, () => revoke(grant));
    expect(r.ended).toBe("until");
    expect(r.endedAfterMs).toBeLessThan(2_000);
    expect(r.error.code).toBe("forbidden");
    expect(r.error.message).toMatch(/no read access/);
    expect(received(r.events)).toEqual([1]);
  });

  it("ends when the reader is removed from the team", async () => {
    const grant = await grantRead();
    const member = await addMember(readerTeam, readerOwner);
    const r = await tailUntilRevoked(member, async () => expect((await call(memberRoute.DELETE, { caller: readerOwner, params: { team: readerTeam, userId: member.id } })).status).toBe(200));
    expect(r.error).toMatchObject({ code: "forbidden", message: expect.stringMatching(/not a member/) });
    expect(received(r.events)).toEqual([1]);
    await revoke(grant);
  });

  it("ends when the API token it was opened with is revoked", async () => {
    const grant = await grantRead();
    const token = await call(tokensRoute.POST, { caller: readerOwner, params: { team: readerTeam }, body: { name: "tail", role: "viewer" } });
    expect(token.status).toBe(201);
    const r = await tailUntilRevoked(bearer(token.body.token), async () => expect((await call(tokenRoute.DELETE, { caller: readerOwner, params: { team: readerTeam, tokenId: token.body.id } })).status).toBe(200));
    expect(r.error).toMatchObject({ code: "unauthenticated", message: expect.stringMatching(/revoked/) });
    await revoke(grant);
  });

  it("ends after its maximum duration with an `expired` error event", async () => {
    process.env.TAIL_MAX_SECONDS = "2";
    try {
      const started = Date.now();
      const { events, ended } = await readSse(await openTail(owner, ownerTeam), { until: (e) => e.event === "error", timeoutMs: 10_000 });
      expect(ended).toBe("until");
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
      expect(events.at(-1)?.data).toEqual({ code: "expired", message: "This live tail reached its maximum duration of 2 seconds; open it again to go on." });
    } finally {
      delete process.env.TAIL_MAX_SECONDS;
    }
  });

  it("allows a few tails per user, counting the user's tokens, and frees the slot when one closes", async () => {
    process.env.TAILS_PER_USER = "2";
    const leave = new AbortController();
    try {
      const token = (await call(tokensRoute.POST, { caller: owner, params: { team: ownerTeam }, body: { name: "tails", role: "viewer" } })).body.token as string;
      const first = readSse(await openTail(owner, ownerTeam), { signal: leave.signal, timeoutMs: 20_000 });
      const second = await openTail(bearer(token), ownerTeam);
      expect(second.status).toBe(200);
      const third = await openTail(owner, ownerTeam);
      expect(third.status).toBe(429);
      expect((await third.json()).error.message).toMatch(/already have 2 live tails open/);
      await readSse(second, { timeoutMs: 300 });
      await sleep(200);
      const fourth = await openTail(owner, ownerTeam);
      expect(fourth.status).toBe(200);
      await readSse(fourth, { timeoutMs: 100 });
    } finally {
      leave.abort();
      delete process.env.TAILS_PER_USER;
    }
  });

  it("shares the web process's broker connections: ten more tails open no new connection", async () => {
    const port = process.env.KAFKA_BROKERS!.split(",")[0].split(":").pop();
    const connections = () => {
      const out = execFileSync("ss", ["-Htnp", "state", "established", `( dport = :${port} )`], { encoding: "utf8" });
      return out.split("\n").filter((l) => l.includes(`pid=${process.pid},`)).length;
    };
    const warm = new AbortController();
    const one = readSse(await openTail(owner, ownerTeam), { signal: warm.signal, timeoutMs: 20_000 });
    await sleep(1_000);
    const before = connections();
    process.env.TAILS_PER_USER = "20";
    const leave = new AbortController();
    try {
      const tails = await Promise.all(Array.from({ length: 10 }, () => openTail(owner, ownerTeam)));
      const reads = tails.map((t) => readSse(t, { signal: leave.signal, timeoutMs: 20_000 }));
      await sleep(1_500);
      expect(connections()).toBe(before);
      leave.abort();
      await Promise.all(reads);
    } finally {
      warm.abort();
      await one;
      delete process.env.TAILS_PER_USER;
    }
  });
});

describe.skipIf(!hasKafka)("live preview re-checks access while open", () => {
  it("stops with an error event when the grant on its source is revoked, and the worker's job ends", async () => {
    const grant = await grantRead();
    const res = await previewRoute.POST(
      new Request(`${BASE}/preview`, {
        method: "POST",
        headers: { ...readerOwner.headers, "content-type": "application/json", origin: BASE },
        body: JSON.stringify({ mode: "tail", seconds: 60, pipeline: { version: 1, nodes: [{ id: "src", type: "source", config: { stream }, position: { x: 0, y: 0 } }], edges: [] } }),
      }),
      { params: Promise.resolve({ team: readerTeam }) },
    );
    expect(res.status).toBe(200);
    const reading = readSse(res, { until: (e) => e.event === "error", timeoutMs: 20_000 });
    await sleep(1_000);
    await revoke(grant);
    const { events, ended } = await reading;
    expect(ended).toBe("until");
    expect(events.at(-1)?.data).toMatchObject({ code: "forbidden", message: expect.stringMatching(/no read access/) });
    const { Queue } = await import("bullmq");
    const queue = new Queue(queues.previews, { connection: createRedis(bullmqRedisOptions), prefix: QUEUE_PREFIX });
    try {
      const deadline = Date.now() + 5_000;
      while ((await queue.getActiveCount()) > 0 && Date.now() < deadline) await sleep(100);
      expect(await queue.getActiveCount()).toBe(0);
    } finally {
      await queue.close();
    }
  });

  it("allows a few previews per user at once", async () => {
    process.env.PREVIEWS_PER_USER = "1";
    const leave = new AbortController();
    try {
      const body = JSON.stringify({ mode: "tail", seconds: 30, pipeline: { version: 1, nodes: [{ id: "src", type: "source", config: { stream }, position: { x: 0, y: 0 } }], edges: [] } });
      const open = () =>
        previewRoute.POST(new Request(`${BASE}/preview`, { method: "POST", headers: { ...owner.headers, "content-type": "application/json", origin: BASE }, body }), { params: Promise.resolve({ team: ownerTeam }) });
      const first = await open();
      expect(first.status).toBe(200);
      const reading = readSse(first, { signal: leave.signal, timeoutMs: 20_000 });
      const second = await open();
      expect(second.status).toBe(429);
      expect((await second.json()).error.message).toMatch(/already have 1 live previews open/);
      leave.abort();
      await reading;
      await sleep(300);
      const third = await open();
      expect(third.status).toBe(200);
      await readSse(third, { timeoutMs: 200 });
    } finally {
      delete process.env.PREVIEWS_PER_USER;
    }
  });
});
