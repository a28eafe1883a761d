import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as membersRoute from "@/app/api/v1/teams/[team]/members/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import * as resumeRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/resume/route";
import * as statusRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/status/route";
import * as metricsRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/metrics/route";
import * as rulesRoute from "@/app/api/v1/teams/[team]/alerts/rules/route";
import * as ruleRoute from "@/app/api/v1/teams/[team]/alerts/rules/[rule]/route";
import * as channelsRoute from "@/app/api/v1/teams/[team]/alerts/channels/route";
import * as inboxRoute from "@/app/api/v1/teams/[team]/alerts/inbox/route";
import * as seenRoute from "@/app/api/v1/teams/[team]/alerts/inbox/seen/route";
import * as historyRoute from "@/app/api/v1/teams/[team]/alerts/history/route";
import * as deliveriesRoute from "@/app/api/v1/teams/[team]/alerts/deliveries/route";
import { closeDeliveryQueue } from "@/lib/alerts/deliveries";
import { verifySignature } from "@/lib/alerts/webhook";
import { clickhouse, closeClickHouse } from "@/lib/clickhouse/client";
import { migrateClickHouse } from "@/lib/clickhouse/migrate";
import { resetOperationsEnv } from "@/lib/env/operations";
import { closeKafka, kafkaAdmin } from "@/lib/kafka/shared";
import { createRedis } from "@/lib/redis/client";
import { currentLeader } from "@/lib/runtime/reconciler";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { call, createPipelineWithVersion, signUp, uniqueName, waitFor, type TestUser } from "@/scripts/testing/api";
import { WorkerPool } from "@/scripts/testing/workers";

const hasKafka = !!process.env.KAFKA_BROKERS;
let owner: TestUser;
let viewer: TestUser;
let outsider: TestUser;
let team: string;
let otherTeam: string;
let src: string;
let pipeline: string;
const pool = new WorkerPool();
const redis = hasKafka ? createRedis() : undefined;

/** A local webhook receiver: every request is kept; `failures[path]` answers 500 that many times first. */
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
const failures: Record<string, number> = {};
let server: Server;
let hookBase: string;

const workerEnv = { SLUICE_ALERT_EVALUATION_MS: "1000", SLUICE_WEBHOOK_ALLOW_PRIVATE: "true", SLUICE_RESTART_MAX_FAILURES: "3", SLUICE_RESTART_WINDOW_MS: "120000", SLUICE_RESTART_BACKOFF_MAX_MS: "2000" };

beforeAll(async () => {
  if (!hasKafka) return;
  // The receiver listens on 127.0.0.1: this install allows private webhook targets (documented opt-in).
  process.env.SLUICE_WEBHOOK_ALLOW_PRIVATE = "true";
  resetOperationsEnv();
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body });
      const path = req.url ?? "";
      if ((failures[path] ?? 0) > 0) {
        failures[path]--;
        res.writeHead(500).end("not now");
      } else res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  hookBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  await migrateClickHouse(clickhouse());
  [owner, viewer, outsider] = [await signUp(), await signUp(), await signUp()];
  team = uniqueName("alerts");
  otherTeam = uniqueName("others");
  expect((await call(teams.POST, { caller: owner, body: { name: "Alerts", slug: team } })).status).toBe(201);
  expect((await call(teams.POST, { caller: outsider, body: { name: "Others", slug: otherTeam } })).status).toBe(201);
  expect((await call(membersRoute.POST, { caller: owner, params: { team }, body: { email: viewer.email, role: "viewer" } })).status).toBe(201);

  src = `ods.${uniqueName("orders")}`;
  const sink = `dwd.${uniqueName("orders-out")}`;
  const schema = [{ name: "id", type: "string" }];
  for (const s of [src, sink]) expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name: s, layer: "ODS", partitions: 1, schema } })).status).toBe(201);
  pipeline = uniqueName("orders-copy");
  await createPipelineWithVersion(owner, team, pipeline, {
    version: 1,
    nodes: [{ id: "s", type: "source", config: { stream: src }, position: { x: 0, y: 0 } }, { id: "o", type: "sink", config: { stream: sink }, position: { x: 1, y: 0 } }],
    edges: [{ source: "s", target: "o" }],
  });
  pool.spawn("alert-w1", { env: workerEnv });
  pool.spawn("alert-w2", { env: workerEnv });
  expect((await call(deployRoute.POST, { caller: owner, params: { team, pipeline }, body: {} })).status).toBe(200);
  await waitFor("pipeline running", () => status(pipeline), (s) => s.actualState === "running", 60_000);
}, 180_000);

afterAll(async () => {
  await pool.killAll();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await closeDeliveryQueue();
  await closeTaskQueue();
  await closeKafka();
  await closeClickHouse();
  redis?.disconnect();
  delete process.env.SLUICE_WEBHOOK_ALLOW_PRIVATE;
  resetOperationsEnv();
});


const status = async (name: string) => (await call(statusRoute.GET, { caller: owner, params: { team, pipeline: name } })).body;
const rules = async () => (await call(rulesRoute.GET, { caller: owner, params: { team } })).body.rules as { name: string; state: string; lastValue: number | null }[];
const ruleState = async (name: string) => (await rules()).find((r) => r.name === name)?.state;
const history = async (rule: string) => (await call(historyRoute.GET, { caller: owner, params: { team }, path: `/?rule=${rule}` })).body.events as { kind: string; deliveries: { status: string; attempts: number }[] }[];
/** Stops the pipeline and waits until its tasks have left: a stop returns at once, tasks leave at their next committed point. */
const stopAndWait = async (name: string) => {
  expect((await call(stopRoute.POST, { caller: owner, params: { team, pipeline: name } })).status).toBe(200);
  await waitFor("pipeline stopped", () => status(name), (s) => s.actualState === "stopped", 30_000);
};
const produce = async (n: number) => {
  const records = Array.from({ length: n }, (_, i) => ({ value: { id: `r${i}` } }));
  expect((await call(recordsRoute.POST, { caller: owner, params: { team, stream: src }, body: { records } })).status).toBe(200);
};

describe.skipIf(!hasKafka)("alerts", () => {
  let secret: string;

  it("lets only team editors manage rules and channels, and checks webhook URLs and targets", async () => {
    const made = await call(channelsRoute.POST, { caller: owner, params: { team }, body: { kind: "webhook", name: "ops-hook", url: `${hookBase}/hook?token=s3cret` } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    secret = made.body.secret;
    expect(secret).toMatch(/^whsec_/);
    // Listing never shows the URL's path or query (it may hold a token), nor the secret.
    const listed = await call(channelsRoute.GET, { caller: viewer, params: { team } });
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toContain("s3cret");
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const lagRule = { name: "orders-lag", pipeline, condition: "consumer_lag", threshold: 5, for: "2s", channels: ["ops-hook"] };
    expect((await call(rulesRoute.POST, { caller: viewer, params: { team }, body: lagRule })).status).toBe(403);
    expect((await call(rulesRoute.POST, { caller: outsider, params: { team }, body: lagRule })).status).toBe(403);
    expect((await call(rulesRoute.GET, { caller: outsider, params: { team } })).status).toBe(403);
    expect((await call(channelsRoute.POST, { caller: viewer, params: { team }, body: { kind: "webhook", name: "v", url: "https://example.com/h" } })).status).toBe(403);
    const created = await call(rulesRoute.POST, { caller: owner, params: { team }, body: lagRule });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name: "orders-lag", state: "ok", forSeconds: 2, channels: ["ops-hook"], target: { kind: "pipeline", name: pipeline } });
    expect((await call(rulesRoute.GET, { caller: viewer, params: { team } })).body.rules.map((r: { name: string }) => r.name)).toEqual(["orders-lag"]);
    expect((await call(ruleRoute.DELETE, { caller: viewer, params: { team, rule: "orders-lag" } })).status).toBe(403);

    // Another team's pipeline and private stream cannot be watched.
    expect((await call(rulesRoute.POST, { caller: outsider, params: { team: otherTeam }, body: { ...lagRule, channels: [] } })).status).toBe(404);
    const priv = `ods.${uniqueName("private")}`;
    expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name: priv, layer: "ODS", partitions: 1, schema: [{ name: "id", type: "string" }], visibility: "private" } })).status).toBe(201);
    expect((await call(rulesRoute.POST, { caller: outsider, params: { team: otherTeam }, body: { name: "spy", stream: priv, condition: "no_input", for: "5m" } })).status).toBe(404);
    // Conditions that do not fit the target, and bad input, say so.
    const bad = await call(rulesRoute.POST, { caller: owner, params: { team }, body: { name: "x", stream: src, condition: "consumer_lag" } });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain("applies to pipelines");
    expect((await call(rulesRoute.POST, { caller: owner, params: { team }, body: { name: "y", pipeline, condition: "error_rate", threshold: 5, channels: ["nope"] } })).body.error.message).toContain('No channel named "nope"');

    // With private targets not allowed (the default), a loopback or metadata address is refused.
    process.env.SLUICE_WEBHOOK_ALLOW_PRIVATE = "false";
    resetOperationsEnv();
    try {
      for (const url of ["http://127.0.0.1:6379/", "http://169.254.169.254/latest/meta-data/", "http://user:pw@example.com/x", "file:///etc/passwd"]) {
        const r = await call(channelsRoute.POST, { caller: owner, params: { team }, body: { kind: "webhook", name: uniqueName("bad"), url } });
        expect(r.status, url).toBe(422);
      }
    } finally {
      process.env.SLUICE_WEBHOOK_ALLOW_PRIVATE = "true";
      resetOperationsEnv();
    }
  });

  it("fires a lag rule once while the pipeline is stopped and records arrive, delivers it signed, and resolves when the pipeline catches up", async () => {
    await stopAndWait(pipeline);
    await produce(20);
    await waitFor("lag rule firing", () => ruleState("orders-lag"), (s) => s === "firing", 30_000);
    const firing = await waitFor("firing delivery", async () => received.filter((r) => r.path.startsWith("/hook")), (l) => l.length >= 1, 30_000);
    const body = JSON.parse(firing[0].body);
    expect(verifySignature(secret, firing[0].headers["x-sluice-signature"] as string, firing[0].body)).toBe(true);
    expect(firing[0].headers["x-sluice-event"]).toBe("alert.firing");
    expect(body).toMatchObject({ type: "alert.firing", state: "firing", team, rule: { name: "orders-lag", condition: "consumer_lag", threshold: 5 }, target: { kind: "pipeline", name: pipeline } });
    // Lag is in offsets: the 20 records, plus the commit marker of the one transaction they were produced in.
    expect(body.value).toBeGreaterThanOrEqual(20);
    expect(body.value).toBeLessThanOrEqual(21);
    expect(body.url).toContain(`/t/${team}/pipelines/${pipeline}/monitor`);

    // De-duplication: more rounds while it keeps firing add no event and no delivery.
    await new Promise((r) => setTimeout(r, 3_500));
    expect((await history("orders-lag")).map((e) => e.kind)).toEqual(["firing", "pending"]);
    expect(received.filter((r) => r.path.startsWith("/hook"))).toHaveLength(1);

    // The inbox shows it to the team; the badge clears once read.
    const inbox = await call(inboxRoute.GET, { caller: viewer, params: { team } });
    expect(inbox.body).toMatchObject({ unread: 1, firing: 1 });
    expect(inbox.body.items[0]).toMatchObject({ kind: "firing", rule: { name: "orders-lag" }, unread: true });
    expect((await call(seenRoute.POST, { caller: viewer, params: { team } })).status).toBe(200);
    expect((await call(inboxRoute.GET, { caller: viewer, params: { team } })).body.unread).toBe(0);
    expect((await call(inboxRoute.GET, { caller: owner, params: { team } })).body.unread).toBe(1);

    expect((await call(resumeRoute.POST, { caller: owner, params: { team, pipeline } })).status).toBe(200);
    await waitFor("lag rule resolved", () => ruleState("orders-lag"), (s) => s === "ok", 40_000);
    const resolved = await waitFor("resolved delivery", async () => received.filter((r) => r.path.startsWith("/hook")), (l) => l.length >= 2, 30_000);
    expect(JSON.parse(resolved[1].body)).toMatchObject({ type: "alert.resolved", state: "resolved", rule: { name: "orders-lag" } });
    expect(verifySignature(secret, resolved[1].headers["x-sluice-signature"] as string, resolved[1].body)).toBe(true);
    const events = await history("orders-lag");
    expect(events.map((e) => e.kind)).toEqual(["resolved", "firing", "pending"]);
    expect(events[0].deliveries).toEqual([{ channel: "ops-hook", status: "delivered", attempts: 1 }]);
    expect((await call(inboxRoute.GET, { caller: viewer, params: { team } })).body).toMatchObject({ unread: 1, firing: 0 });
  }, 120_000);

  it("retries a failing webhook with backoff and logs every attempt", async () => {
    failures["/flaky"] = 2;
    expect((await call(channelsRoute.POST, { caller: owner, params: { team }, body: { kind: "webhook", name: "flaky", url: `${hookBase}/flaky` } })).status).toBe(201);
    // A floor no pipeline reaches: pending at once, firing after 1 s.
    expect((await call(rulesRoute.POST, { caller: owner, params: { team }, body: { name: "floor", pipeline, condition: "throughput_below", threshold: 1e9, for: "1s", channels: ["flaky"] } })).status).toBe(201);
    type Logged = { channel: string; status: string; log: { at: string; ok: boolean; status?: number; error?: string }[] };
    const log = await waitFor(
      "delivered after retries",
      async () => ((await call(deliveriesRoute.GET, { caller: owner, params: { team } })).body.deliveries as Logged[]).filter((d) => d.channel === "flaky"),
      (ds) => ds.some((d) => d.status === "delivered"),
      40_000,
    );
    expect(log[0]).toMatchObject({ rule: "floor", event: "firing", status: "delivered", attempts: 3, responseStatus: 204, lastError: null });
    expect(log[0].log.map((a) => [a.ok, a.status])).toEqual([[false, 500], [false, 500], [true, 204]]);
    expect(log[0].log[1].error).toBe("the receiver answered 500");
    // Exponential backoff: the third attempt came at least 2 s + 4 s after the first.
    expect(Date.parse(log[0].log[2].at) - Date.parse(log[0].log[0].at)).toBeGreaterThanOrEqual(5_500);
    expect(received.filter((r) => r.path === "/flaky")).toHaveLength(3);
    expect((await call(ruleRoute.DELETE, { caller: owner, params: { team, rule: "floor" } })).status).toBe(200);
  }, 60_000);

  it("keeps evaluating when the worker holding the lease dies: the next rise of lag fires once, from the other worker", async () => {
    const leader = await waitFor("a leader", () => currentLeader(redis!), (l) => !!l);
    const victim = leader!.split("/")[0];
    expect(["alert-w1", "alert-w2"]).toContain(victim);
    const survivor = victim === "alert-w1" ? "alert-w2" : "alert-w1";
    const before = (await history("orders-lag")).length;
    pool.get(victim)!.process.kill("SIGKILL");
    await stopAndWait(pipeline);
    await produce(30);
    await waitFor("lag rule firing again", () => ruleState("orders-lag"), (s) => s === "firing", 45_000);
    expect((await currentLeader(redis!))?.split("/")[0]).toBe(survivor);
    const events = await history("orders-lag");
    expect(events.slice(0, events.length - before).map((e) => e.kind)).toEqual(["firing", "pending"]);
    await waitFor("third delivery", async () => received.filter((r) => r.path.startsWith("/hook")), (l) => l.length >= 3, 30_000);
    await new Promise((r) => setTimeout(r, 2_500));
    expect(received.filter((r) => r.path.startsWith("/hook"))).toHaveLength(3);
    expect((await call(resumeRoute.POST, { caller: owner, params: { team, pipeline } })).status).toBe(200);
  }, 120_000);

  it("restarts a crashing task with backoff, fails the deployment after k failures in T, and fires the task-failure rule", async () => {
    const crashSrc = `ods.${uniqueName("crash-in")}`;
    const crashSink = `dwd.${uniqueName("crash-out")}`;
    const schema = [{ name: "id", type: "string" }];
    for (const s of [crashSrc, crashSink]) expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name: s, layer: "ODS", partitions: 1, schema } })).status).toBe(201);
    const crashy = uniqueName("crashy");
    await createPipelineWithVersion(owner, team, crashy, {
      version: 1,
      nodes: [{ id: "s", type: "source", config: { stream: crashSrc }, position: { x: 0, y: 0 } }, { id: "o", type: "sink", config: { stream: crashSink }, position: { x: 1, y: 0 } }],
      edges: [{ source: "s", target: "o" }],
    });
    expect((await call(rulesRoute.POST, { caller: owner, params: { team }, body: { name: "crashy-failed", pipeline: crashy, condition: "task_failures", threshold: 10, for: "10m" } })).status).toBe(201);
    expect((await call(deployRoute.POST, { caller: owner, params: { team, pipeline: crashy }, body: {} })).status).toBe(200);
    await waitFor("crashy running", () => status(crashy), (s) => s.actualState === "running", 60_000);
    // Someone deletes the sink's topic on the cluster behind Sluice's back: every write now fails.
    await (await kafkaAdmin()).deleteTopics({ topics: [crashSink] });
    expect((await call(recordsRoute.POST, { caller: owner, params: { team, stream: crashSrc }, body: { records: [{ value: { id: "x" } }] } })).status).toBe(200);

    const restarting = await waitFor("a restart", () => status(crashy), (s) => s.tasks?.[0]?.restarts >= 1, 120_000);
    expect(restarting.tasks[0].restartLimit).toEqual({ maxFailures: 3, windowMs: 120_000 });
    // Each failure is a write that gives up after ~20 s of retries (task-runner.ts), then a restart.
    const failed = await waitFor("deployment failed", () => status(crashy), (s) => s.actualState === "failed", 240_000);
    expect(failed.lastError).toMatch(/^task 0 failed 3 times within 2 min \(the limit is 3 per task\); last error: /);
    await waitFor("task-failure rule firing", () => ruleState("crashy-failed"), (s) => s === "firing", 30_000);
    const metrics = await call(metricsRoute.GET, { caller: owner, params: { team, pipeline: crashy }, path: "/?range=15m" });
    const kinds = metrics.body.events.map((e: { kind: string }) => e.kind);
    expect(kinds.filter((k: string) => k === "restart")).toHaveLength(2);
    expect(kinds).toContain("failed");
    const restarts = metrics.body.events.filter((e: { kind: string }) => e.kind === "restart");
    // Backoff doubles: 1 s after the first failure, 2 s after the second.
    expect(restarts.map((e: { message: string }) => /restarting in (\d+) s/.exec(e.message)?.[1])).toEqual(["1", "2"]);
  }, 420_000);
});
