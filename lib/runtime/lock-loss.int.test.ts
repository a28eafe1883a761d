import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import * as deployRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/deploy/route";
import * as stopRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/stop/route";
import * as statusRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/status/route";
import { closeKafka } from "@/lib/kafka/shared";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { call, copyPipeline, createPipelineWithVersion, signUpWithTeam, uniqueName, type TestUser } from "@/scripts/testing/api";
import { WorkerPool } from "@/scripts/testing/workers";

/**
 * Issue 16, Medium 10: a worker that stalls past its task's lock (3 s) has the
 * task handed to another worker. When it wakes up it must stop its own copy at
 * once and say so once — not keep running it and log "could not renew lock"
 * ~1.3 times a second forever.
 */
const hasKafka = !!process.env.KAFKA_BROKERS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pool = new WorkerPool();
let user: TestUser;
let team: string;

beforeAll(async () => {
  if (!hasKafka) return;
  team = uniqueName("lock");
  user = await signUpWithTeam(team);
});

afterAll(async () => {
  await pool.killAll();
  await closeTaskQueue();
  await closeKafka();
});

async function taskHost(pipeline: string): Promise<string | undefined> {
  const status = (await call(statusRoute.GET, { caller: user, params: { team, pipeline } })).body;
  const task = status.tasks?.[0];
  return task?.state === "running" ? task.worker : undefined;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe.skipIf(!hasKafka)("a task that lost its lock", () => {
  it("stops on the stalled worker at once, says so once, and keeps running on the other worker", async () => {
    const src = `ods.${uniqueName("lk-src")}`;
    const sink = `dwd.${uniqueName("lk-sink")}`;
    const schema = [{ name: "n", type: "int" }];
    for (const name of [src, sink]) expect((await call(streamsRoute.POST, { caller: user, params: { team }, body: { name, layer: name.slice(0, 3).toUpperCase(), partitions: 1, schema } })).status).toBe(201);
    const name = uniqueName("lk");
    await createPipelineWithVersion(user, team, name, copyPipeline(src, sink));

    const a = pool.spawn(`${name}-a`, { capture: true });
    const b = pool.spawn(`${name}-b`, { capture: true });
    expect((await call(deployRoute.POST, { caller: user, params: { team, pipeline: name }, body: { parallelism: 1 } })).status).toBe(200);
    const first = await waitFor("the task to run", () => taskHost(name));
    const { deploymentId } = (await call(statusRoute.GET, { caller: user, params: { team, pipeline: name } })).body as { deploymentId: string };
    const [stalled, other] = first === a.name ? [a, b] : [b, a];

    // Freeze the host (as a blocked event loop or a paused VM would) for longer than the
    // lock (3 s) and the consumer session (6 s): the other worker takes the task over.
    stalled.process.kill("SIGSTOP");
    await sleep(8_000);
    stalled.process.kill("SIGCONT");
    await waitFor("the task to move to the other worker", async () => ((await taskHost(name)) === other.name ? true : undefined));

    // Long enough for a dozen renewal attempts (one every 1.5 s) if the stalled copy went on.
    await sleep(10_000);
    // Its own task's lines only: a worker of the shared test queue may also have picked up a task another file left running.
    const lockLines = stalled.lines.filter((l) => l.includes(deploymentId) && /could not renew lock|lost its lock|Missing lock|Lock mismatch/.test(l));
    expect(lockLines, lockLines.join("\n")).toHaveLength(1);
    expect(lockLines[0]).toMatch(/lost its lock/);

    // The task still runs where it was handed over, and only there: records flow to the sink.
    expect(await taskHost(name)).toBe(other.name);
    expect((await call(recordsRoute.POST, { caller: user, params: { team, stream: src }, body: { records: [{ value: { n: 1 } }] } })).status).toBe(200);
    const status = await waitFor("the record to be copied", async () => {
      const s = (await call(statusRoute.GET, { caller: user, params: { team, pipeline: name } })).body;
      return s.tasks?.[0]?.recordsOut >= 1 ? s : undefined;
    });
    expect(status.tasks[0].worker).toBe(other.name);
    // The stalled worker runs no task any more (its heartbeat says how many it runs).
    await sleep(2_500);
    const workers = (await call(statusRoute.GET, { caller: user, params: { team, pipeline: name } })).body.workers as { id: string; running: number }[];
    expect(workers.find((w) => w.id === stalled.name)?.running).toBe(0);
    await call(stopRoute.POST, { caller: user, params: { team, pipeline: name } });
  }, 120_000);
});
