import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as statusRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/status/route";
import { runCli } from "@/lib/cli/main";
import { bufferIO } from "@/lib/cli/testing";
import { closeKafka } from "@/lib/kafka/shared";
import { closeRedis, redis } from "@/lib/redis/client";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import { listWorkers } from "@/lib/runtime/worker-registry";
import { call, signUp, uniqueName, waitFor, type TestUser } from "@/scripts/testing/api";
import { WorkerPool } from "@/scripts/testing/workers";

/**
 * Issue 18 item 7: with every worker slot taken, a new deployment's tasks wait
 * in the queue. Status, the CLI and the deploy panel say why ("waiting for a
 * free worker slot: 1 of 1 in use") and how to add capacity, and the reason
 * goes away when a worker with free slots arrives.
 */
const hasKafka = !!process.env.KAFKA_BROKERS;
const pool = new WorkerPool();
let owner: TestUser;
let team: string;
let email: string;
const [a, b] = ["cap-a", "cap-b"];

async function cli(args: string[]) {
  const r = bufferIO();
  const code = await runCli(args, r.io);
  return { code, out: r.out, err: r.err };
}

async function status(pipeline: string) {
  const r = await call(statusRoute.GET, { caller: owner, params: { team, pipeline } });
  expect(r.status).toBe(200);
  return r.body;
}

beforeAll(async () => {
  if (!hasKafka) return;
  owner = await signUp();
  email = owner.email;
  team = uniqueName("cap");
  expect((await cli(["team", "create", "--name", "Capacity", "--slug", team, "--owner", email])).code).toBe(0);
  const schema = JSON.stringify([{ name: "n", type: "int" }]);
  const streams = [`ods.${uniqueName("cap")}`, `dwd.${uniqueName("cap-a")}`, `dwd.${uniqueName("cap-b")}`];
  for (const s of streams) expect((await cli(["stream", "create", "--team", team, "--name", s, "--layer", "ODS", "--schema", schema, "--partitions", "1"])).code).toBe(0);
  const { writeFileSync, mkdtempSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "sluice-cap-"));
  for (const [name, sink] of [[a, streams[1]], [b, streams[2]]]) {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ name, pipeline: { version: 1, nodes: [
      { id: "s", type: "source", config: { stream: streams[0] }, position: { x: 0, y: 0 } },
      { id: "o", type: "sink", config: { stream: sink }, position: { x: 1, y: 0 } },
    ], edges: [{ source: "s", target: "o" }] } }));
    expect((await cli(["pipeline", "apply", "--team", team, "-f", file])).code).toBe(0);
  }
});

afterAll(async () => {
  if (hasKafka) for (const p of [a, b]) await cli(["pipeline", "stop", "--team", team, "--name", p]);
  await pool.killAll();
  await Promise.allSettled([closeTaskQueue(), closeKafka(), closeRedis()]);
});

describe.skipIf(!hasKafka)("worker capacity", () => {
  it("says a deployment waits for a free worker slot, in status and the CLI, until a worker with free slots arrives", async () => {
    pool.spawn(a, { env: { WORKER_SLOTS: "1" } });
    // Only this worker is registered (other files' workers' heartbeats expire within seconds).
    await waitFor("only worker cap-a", () => listWorkers(redis()), (ws) => ws.length === 1 && ws[0].id === a);
    expect((await cli(["pipeline", "deploy", "--team", team, "--name", a])).code).toBe(0);
    // The one slot is busy (with cap-a's task, or a task another test left running).
    await waitFor("the slot in use", () => status(a), (s) => s.capacity.inUse === 1);

    const dp = await cli(["pipeline", "deploy", "--team", team, "--name", b]);
    expect(dp.code).toBe(0);
    expect(dp.err).toEqual([
      "note: the tasks are waiting for a free worker slot: 1 of 1 in use; they start as slots free up. To run more at once, add slots (WORKER_SLOTS, then restart the workers) or workers (`npm run worker` on another machine with the same settings); see docs/runtime.md, Capacity.",
    ]);
    const waiting = await waitFor("b's reason", () => status(b), (s) => s.waiting !== null);
    expect(waiting).toMatchObject({ actualState: "starting", waiting: "waiting for a free worker slot: 1 of 1 in use", capacity: { workers: 1, slots: 1, inUse: 1 } });
    expect(waiting.tasks.map((t: { state: string }) => t.state)).toEqual(["pending"]);
    const st = await cli(["pipeline", "status", "--team", team, "--name", b]);
    expect(st.out[1]).toBe("  waiting for a free worker slot: 1 of 1 in use — add slots (WORKER_SLOTS, then restart the workers) or workers (`npm run worker` on another machine with the same settings); see docs/runtime.md, Capacity");

    // More capacity: the task starts and the reason goes.
    pool.spawn("cap-more", { env: { WORKER_SLOTS: "16" } });
    const started = await waitFor("b running", () => status(b), (s) => s.tasks[0].state === "running", 60_000);
    expect(started.waiting).toBeNull();
    const after = await cli(["pipeline", "status", "--team", team, "--name", b]);
    expect(after.out.join("\n")).not.toMatch(/waiting/);
  });
});
