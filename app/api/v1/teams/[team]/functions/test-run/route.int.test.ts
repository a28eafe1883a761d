import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as members from "@/app/api/v1/teams/[team]/members/route";
import * as functionsRoute from "@/app/api/v1/teams/[team]/functions/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as recordsRoute from "@/app/api/v1/teams/[team]/streams/[stream]/records/route";
import { closeKafka } from "@/lib/kafka/shared";
import { closeUdfTestQueue } from "@/lib/udf/test-run";
import { listWorkers } from "@/lib/runtime/worker-registry";
import { redis } from "@/lib/redis/client";
import { call, signUp, signUpWithTeam, uniqueName, waitFor, type TestUser } from "@/scripts/testing/api";
import { WorkerPool } from "@/scripts/testing/workers";
import * as testRun from "./route";

const hasKafka = !!process.env.KAFKA_BROKERS;
let owner: TestUser, viewer: TestUser, outsider: TestUser;
let team: string;
const inline = (form: string, source: string) => ({ inline: { form, source } });

// Test runs run on a worker (its preview process), as in production: this test process is the web server.
const pool = new WorkerPool();

beforeAll(async () => {
  const worker = pool.spawn(uniqueName("udf-run-worker"), { env: { UDF_TEST_CONCURRENCY: "8" } });
  // A test run is refused while no worker is registered: wait for this one's first heartbeat
  // (a busy machine takes seconds to start it) rather than racing it.
  await waitFor("the test-run worker to register", () => listWorkers(redis()), (ws) => ws.some((w) => w.pid === worker.process.pid), 60_000);
  [owner, viewer, outsider] = await Promise.all([signUp(), signUp(), signUp()]);
  team = uniqueName("udf-run");
  expect((await call(teams.POST, { caller: owner, body: { name: "UDF run", slug: team } })).status).toBe(201);
  expect((await call(teams.POST, { caller: outsider, body: { name: "Other", slug: uniqueName("udf-other") } })).status).toBe(201);
  expect((await call(members.POST, { caller: owner, params: { team }, body: { email: viewer.email, role: "viewer" } })).status).toBe(201);
});
afterAll(async () => {
  await pool.killAll();
  await closeUdfTestQueue();
  await closeKafka();
});

describe("POST /api/v1/teams/:team/functions/test-run", () => {
  const records = [{ price: 2, qty: 3 }, { price: 5, qty: null }, { price: 1, qty: 10 }];

  it("401 without credentials and 403 for another team's member, with no outputs", async () => {
    const body = { function: inline("map", "(r) => r"), records };
    const anon = await call(testRun.POST, { params: { team }, body });
    expect(anon.status).toBe(401);
    const other = await call(testRun.POST, { caller: outsider, params: { team }, body });
    expect(other.status).toBe(403);
    expect(JSON.stringify(other.body)).not.toContain("price");
  });

  it("map: per-record outputs, and a record the function throws on becomes that record's error", async () => {
    const res = await call(testRun.POST, {
      caller: viewer,
      params: { team },
      body: { function: inline("map", "(r) => { if (r.qty === null) throw new Error('no qty'); return { ...r, total: r.price * r.qty }; }"), records },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.form).toBe("map");
    expect(res.body.sample).toEqual({ from: "records" });
    expect(res.body.records).toEqual([
      { input: records[0], outputs: [{ price: 2, qty: 3, total: 6 }] },
      { input: records[1], outputs: [], error: "function threw Error: no qty" },
      { input: records[2], outputs: [{ price: 1, qty: 10, total: 10 }] },
    ]);
    expect(res.body.counts).toEqual({ input: 3, output: 2, errors: 1 });
  });

  it("filter keeps the input record itself; flatMap returns 0..n outputs; a wrong shape is an error", async () => {
    const filter = await call(testRun.POST, { caller: owner, params: { team }, body: { function: inline("filter", "(r) => r.price > 1"), records } });
    expect(filter.body.records.map((r: { outputs: unknown[] }) => r.outputs)).toEqual([[records[0]], [records[1]], []]);
    const flat = await call(testRun.POST, { caller: owner, params: { team }, body: { function: inline("flatMap", "(r) => r.price === 5 ? 'oops' : Array.from({ length: r.price }, (_, i) => ({ i }))"), records } });
    expect(flat.status).toBe(200);
    expect(flat.body.records[0].outputs).toEqual([{ i: 0 }, { i: 1 }]);
    expect(flat.body.records[1].error).toBe("flatMap must return a list of records, got string");
    expect(flat.body.records[2].outputs).toEqual([{ i: 0 }]);
  });

  it("a source that does not compile is a 422 that says so", async () => {
    const res = await call(testRun.POST, { caller: owner, params: { team }, body: { function: inline("map", "(r) => {"), records } });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/does not compile: syntax error/);
  });

  it("runs a registry function (latest version unless one is pinned)", async () => {
    const name = `tag_${Math.random().toString(36).slice(2, 8)}`;
    expect((await call(functionsRoute.POST, { caller: owner, params: { team }, body: { name, form: "map", source: "(r) => ({ v: 1 })" } })).status).toBe(201);
    expect((await call(functionsRoute.POST, { caller: owner, params: { team }, body: { name, form: "map", source: "(r) => ({ v: 2 })" } })).status).toBe(201);
    const latest = await call(testRun.POST, { caller: viewer, params: { team }, body: { function: { name }, records: [{}] } });
    expect(latest.body).toMatchObject({ function: { name, version: 2 }, records: [{ outputs: [{ v: 2 }] }] });
    const pinned = await call(testRun.POST, { caller: viewer, params: { team }, body: { function: { name, version: 1 }, records: [{}] } });
    expect(pinned.body).toMatchObject({ function: { name, version: 1 }, records: [{ outputs: [{ v: 1 }] }] });
    const missing = await call(testRun.POST, { caller: viewer, params: { team }, body: { function: { name: "no_such_fn" }, records: [{}] } });
    expect(missing.status).toBe(404);
  });

  it("needs sample records or a stream", async () => {
    const res = await call(testRun.POST, { caller: owner, params: { team }, body: { function: inline("map", "(r) => r") } });
    expect(res.status).toBe(422);
  });

  it.skipIf(!hasKafka)("without records, samples the newest records of a stream the team can read", async () => {
    const stream = `ods.${uniqueName("udf-run")}`;
    const schema = [{ name: "n", type: "int" }];
    expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name: stream, layer: "ODS", partitions: 1, schema, visibility: "private" } })).status).toBe(201);
    const values = [1, 2, 3, 4].map((n) => ({ value: { n } }));
    expect((await call(recordsRoute.POST, { caller: owner, params: { team, stream }, body: { records: values } })).status).toBe(200);
    const res = await call(testRun.POST, { caller: viewer, params: { team }, body: { function: inline("map", "(r) => ({ doubled: r.n * 2 })"), stream, limit: 3 } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.sample).toEqual({ from: "stream", stream });
    expect(res.body.records.map((r: { outputs: { doubled: number }[] }) => r.outputs[0].doubled)).toEqual([4, 6, 8]);
    // Another team cannot sample this private stream through the test run.
    const outsiderTeam = uniqueName("udf-peek");
    expect((await call(teams.POST, { caller: outsider, body: { name: "Peek", slug: outsiderTeam } })).status).toBe(201);
    const peek = await call(testRun.POST, { caller: outsider, params: { team: outsiderTeam }, body: { function: inline("map", "(r) => r"), stream } });
    expect([403, 404]).toContain(peek.status);
  });
});

/**
 * Issue 16, Medium 7: a ~300-byte request returned a 204 MB response with a
 * 1.24 GB memory peak in the web server, and six concurrent infinite-loop
 * test runs took ~1.6 of the 2 cores for 30 s — in the web server.
 */
describe("UDF test runs are bounded and run off the web server", () => {
  it("caps the output of one run (count and size) and says where it stopped", async () => {
    // 10 inputs × 1,000 outputs × ~2 KB: about 20 MB of output.
    const source = "(r) => Array.from({ length: 1000 }, (_, i) => ({ i, pad: 'x'.repeat(2000) }))";
    const res = await call(testRun.POST, { caller: owner, params: { team }, body: { function: inline("flatMap", source), records: Array.from({ length: 10 }, (_, n) => ({ n })) } });
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
    expect(JSON.stringify(res.body).length).toBeLessThan(1.2 * (1 << 20));
    expect(res.body.counts.output).toBeLessThanOrEqual(500);
    expect(res.body.records.length).toBeLessThan(10);
    expect(res.body.truncated).toMatch(/stopped after \d+ of 10 records: a test run returns at most 500 output records and 1 MiB of output/);
  });

  it("runs the function in a worker process, not in the web server's", async () => {
    // Six test runs that loop until their 2 s limit, three times each: ~8 s of a core apiece.
    const cpu = process.cpuUsage();
    const runs = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const slug = uniqueName(`udf-spin-${i}`);
        const u = await signUpWithTeam(slug);
        return Promise.all([0, 1].map(() => call(testRun.POST, { caller: u, params: { team: slug }, body: { function: inline("map", "(r) => { for (;;) {} }"), timeoutMs: 2_000, records: [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }] } })));
      }),
    );
    for (const res of runs.flat()) {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.records.map((r: { error?: string }) => r.error)).toEqual([
        "function exceeded the time limit of 2000 ms",
        "function exceeded the time limit of 2000 ms",
        "function exceeded the time limit of 2000 ms",
        "not run: the batch hit the time limit 3 times",
      ]);
    }
    const used = process.cpuUsage(cpu);
    // This process (the web server here) only waited: well under a second of CPU for ~48 s of spinning.
    expect((used.user + used.system) / 1e6).toBeLessThan(3);
  }, 120_000);

  it("refuses a team's third concurrent test run, and another team's over the installation's limit", async () => {
    process.env.UDF_TEST_RUNS_PER_TEAM = "2";
    process.env.UDF_TEST_RUNS_TOTAL = "3";
    try {
      const spin = (u: TestUser, slug: string) => call(testRun.POST, { caller: u, params: { team: slug }, body: { function: inline("map", "(r) => { for (;;) {} }"), timeoutMs: 1_000, records: [{ n: 1 }] } });
      const [a, b, c] = await Promise.all([0, 1, 2].map(async (i) => {
        const slug = uniqueName(`udf-cap-${i}`);
        return { slug, u: await signUpWithTeam(slug) };
      }));
      const first = [spin(a.u, a.slug), spin(a.u, a.slug)];
      await new Promise((r) => setTimeout(r, 300));
      const third = await spin(a.u, a.slug);
      expect(third.status).toBe(429);
      expect(third.body.error.message).toMatch(/already has 2 test runs running/);
      const other = spin(b.u, b.slug);
      await new Promise((r) => setTimeout(r, 300));
      const over = await spin(c.u, c.slug);
      expect(over.status).toBe(429);
      expect(over.body.error.message).toMatch(/workers are busy/);
      for (const r of await Promise.all([...first, other])) expect(r.status).toBe(200);
      // Slots are given back when runs finish.
      expect((await spin(c.u, c.slug)).status).toBe(200);
    } finally {
      delete process.env.UDF_TEST_RUNS_PER_TEAM;
      delete process.env.UDF_TEST_RUNS_TOTAL;
    }
  }, 60_000);
});
