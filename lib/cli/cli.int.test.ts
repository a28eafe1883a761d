import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeKafka } from "@/lib/kafka/shared";
import { closeRedis } from "@/lib/redis/client";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import * as me from "@/app/api/v1/me/route";
import { bearer, call, uniqueName } from "@/scripts/testing/api";
import { appendedOffsets, committedValues } from "@/scripts/testing/topic";
import { runCli } from "./main";
import { bufferIO, runSluice, SLUICE_BIN } from "./testing";

afterAll(async () => {
  await Promise.allSettled([closeTaskQueue(), closeKafka(), closeRedis()]);
});

function io(stdin = "") {
  const { io: cio, out, err } = bufferIO(stdin);
  return { cio, out, err };
}

describe("sluice CLI", () => {
  it("creates a user, a team and a token that authenticates against the API", async () => {
    const email = `${uniqueName("cli")}@example.test`;
    const slug = uniqueName("cli-team");
    const a = io("a long enough password\n");
    expect(await runCli(["user", "create", "--email", email, "--name", "CLI User", "--password-stdin"], a.cio)).toBe(0);
    expect(a.out[0]).toContain(email);

    const b = io();
    expect(await runCli(["team", "create", "--name", "CLI Team", "--slug", slug, "--owner", email], b.cio)).toBe(0);

    const c = io();
    expect(await runCli(["token", "create", "--team", slug, "--name", "deploy-bot"], c.cio)).toBe(0);
    const token = c.out[0];
    expect(token).toMatch(/^slc_/);
    expect(c.err.join("\n")).toMatch(/not shown again/);

    const res = await call(me.GET, { caller: bearer(token) });
    expect(res.status).toBe(200);
    expect(res.body.teams[0].slug).toBe(slug);
  });

  it("explains errors and exits non-zero", async () => {
    const r = io();
    expect(await runCli(["token", "create", "--team", uniqueName("missing")], r.cio)).toBe(1);
    expect(r.err.join("\n")).toMatch(/No team/);
    const weak = io("short\n");
    expect(await runCli(["user", "create", "--email", `${uniqueName("w")}@example.test`, "--name", "W", "--password-stdin"], weak.cio)).toBe(1);
    expect(weak.err.join("\n")).toMatch(/at least 10/);
  });

  it("prints help for every command and exits 2 on unknown options", async () => {
    for (const argv of [["--help"], ["user", "create", "--help"], ["team", "create", "--help"], ["token", "create", "--help"]]) {
      const h = io();
      expect(await runCli(argv, h.cio)).toBe(0);
      expect(h.out.join("\n")).toMatch(/Usage: sluice/);
    }
    const bad = io();
    expect(await runCli(["team", "create", "--bogus"], bad.cio)).toBe(2);
  });
});

describe.skipIf(!process.env.KAFKA_BROKERS)("sluice CLI: streams and pipelines", () => {
  it("creates a stream, produces JSON lines, tails them, applies and deploys a pipeline", async () => {
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const email = `${uniqueName("clip")}@example.test`;
    const team = uniqueName("clip");
    await runCli(["user", "create", "--email", email, "--name", "P", "--password-stdin"], io("a long enough password").cio);
    await runCli(["team", "create", "--name", "Clip", "--slug", team, "--owner", email], io().cio);
    const src = `ods.${uniqueName("cli-src")}`;
    const sink = `dwd.${uniqueName("cli-sink")}`;
    const schema = JSON.stringify([{ name: "user_id", type: "string" }, { name: "n", type: "int" }]);
    const mk = io();
    expect(await runCli(["stream", "create", "--team", team, "--name", src, "--layer", "ODS", "--schema", schema, "--partitions", "1"], mk.cio), mk.err.join()).toBe(0);
    expect(await runCli(["stream", "create", "--team", team, "--name", sink, "--layer", "DWD", "--schema", schema, "--partitions", "1"], io().cio)).toBe(0);

    const lines = [1, 2, 3].map((n) => JSON.stringify({ user_id: `u${n}`, n })).join("\n");
    const pr = io(lines + "\n");
    expect(await runCli(["stream", "produce", "--team", team, "--name", src, "--key", "user_id"], pr.cio), pr.err.join()).toBe(0);
    expect(pr.out[0]).toBe(`Produced 3 record(s) to ${src}`);
    const bad = io("{oops\n");
    expect(await runCli(["stream", "produce", "--team", team, "--name", src], bad.cio)).toBe(1);
    expect(bad.err.join()).toMatch(/stdin:1:2: error: not valid JSON/);

    const tail = io();
    expect(await runCli(["stream", "tail", "--team", team, "--name", src, "--no-follow"], tail.cio)).toBe(0);
    expect(tail.out.map((l) => JSON.parse(l).value.n)).toEqual([1, 2, 3]);
    expect(JSON.parse(tail.out[0]).key).toBe("u1");

    const dir = mkdtempSync(join(tmpdir(), "sluice-cli-"));
    const file = join(dir, "p.json");
    writeFileSync(file, JSON.stringify({
      name: "cli-pipe",
      pipeline: {
        version: 1,
        nodes: [
          { id: "s", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
          { id: "f", type: "filter", config: { predicate: "n > 1" }, position: { x: 1, y: 0 } },
          { id: "o", type: "sink", config: { stream: sink }, position: { x: 2, y: 0 } },
        ],
        edges: [{ source: "s", target: "f" }, { source: "f", target: "o" }],
      },
    }));
    const ap = io();
    expect(await runCli(["pipeline", "apply", "--team", team, "-f", file, "-m", "first"], ap.cio), ap.err.join()).toBe(0);
    expect(ap.out[0]).toBe("Saved cli-pipe version 1");
    expect(ap.err).toEqual([]);
    expect(await runCli(["pipeline", "apply", "--team", team, "-f", file], io().cio)).toBe(0);
    const dp = io();
    expect(await runCli(["pipeline", "deploy", "--team", team, "--name", "cli-pipe", "--guarantee", "exactly_once"], dp.cio), dp.err.join()).toBe(0);
    expect(dp.out[0]).toBe("Deploying cli-pipe version 2: 1 task(s), exactly_once");
    const st = io();
    expect(await runCli(["pipeline", "status", "--team", team, "--name", "cli-pipe", "--json"], st.cio)).toBe(0);
    expect(JSON.parse(st.out.join("\n"))).toMatchObject({ deployed: true, version: 2, desiredState: "running", deliveryGuarantee: "exactly_once" });
    expect(await runCli(["pipeline", "stop", "--team", team, "--name", "cli-pipe"], io().cio)).toBe(0);
  });
});

describe.skipIf(!process.env.KAFKA_BROKERS)("sluice pipeline apply and deploy: problems printed like a compiler", () => {
  it("prints each problem at file:line:column with the field, code, node and a caret; a new pipeline is not created", async () => {
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const email = `${uniqueName("diag")}@example.test`;
    const team = uniqueName("diag");
    await runCli(["user", "create", "--email", email, "--name", "D", "--password-stdin"], io("a long enough password").cio);
    await runCli(["team", "create", "--name", "Diag", "--slug", team, "--owner", email], io().cio);
    const [src, sink] = [`ods.${uniqueName("diag")}`, `dwd.${uniqueName("diag")}`];
    const schema = JSON.stringify([{ name: "n", type: "int" }]);
    for (const name of [src, sink]) expect(await runCli(["stream", "create", "--team", team, "--name", name, "--layer", "ODS", "--schema", schema, "--partitions", "1"], io().cio)).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), "sluice-diag-"));
    const file = join(dir, "p.json");
    const lines = [
      `{ "name": "diag", "pipeline": { "version": 1, "nodes": [`,
      `  { "id": "s", "type": "source", "config": { "stream": "${src}" }, "position": { "x": 0, "y": 0 } },`,
      `  { "id": "f", "type": "filter", "config": { "predicate": "n > 1 && nn < 5" }, "position": { "x": 1, "y": 0 } },`,
      `  { "id": "o", "type": "sink", "config": { "stream": "${sink}" }, "position": { "x": 2, "y": 0 } } ],`,
      `  "edges": [ { "source": "s", "target": "f" }, { "source": "f", "target": "o" } ] } }`,
    ];
    writeFileSync(file, lines.join("\n"));
    const bad = io();
    expect(await runCli(["pipeline", "apply", "--team", team, "-f", file], bad.cio)).toBe(1);
    const col = lines[2].indexOf("nn < 5") + 1;
    expect(bad.err).toEqual([
      `${file}:3:${col}: error: config.predicate: unknown field "nn" — did you mean "n"? [unknown-field, node f]`,
      "   | n > 1 && nn < 5",
      "   |          ^^",
      "error: The pipeline has 1 error(s); fix them before saving.",
    ]);
    // Item 5: the failed apply under a new name left no empty pipeline behind.
    const st = io();
    expect(await runCli(["pipeline", "status", "--team", team, "--name", "diag"], st.cio)).toBe(1);
    expect(st.err.join("\n")).toMatch(/Pipeline "diag" in team ".*" was not found/);

    // Item 4: a cycle through a Union is the same `cycle` diagnostic as any other cycle, not an internal error.
    writeFileSync(file, JSON.stringify({ name: "diag", pipeline: { version: 1, nodes: [
      { id: "s", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
      { id: "u", type: "union", config: {}, position: { x: 0, y: 0 } },
      { id: "f", type: "filter", config: { predicate: "n > 1" }, position: { x: 0, y: 0 } },
      { id: "o", type: "sink", config: { stream: sink }, position: { x: 0, y: 0 } },
    ], edges: [{ source: "s", target: "u" }, { source: "f", target: "u" }, { source: "u", target: "f" }, { source: "f", target: "o" }] } }, null, 2));
    const cyc = io();
    expect(await runCli(["pipeline", "apply", "--team", team, "-f", file], cyc.cio)).toBe(1);
    const heads = cyc.err.filter((l) => l.startsWith(file));
    expect(heads.map((l) => l.replace(/^.*?: error: /, ""))).toEqual([
      "this node is part of a cycle (u, f); pipelines must be acyclic [cycle, node u]",
      "this node is part of a cycle (u, f); pipelines must be acyclic [cycle, node f]",
    ]);
    expect(cyc.err.join("\n")).not.toMatch(/internal|Something went wrong|canonical/i);

    // Deploy re-validates against today's catalog: its diagnostics print on the saved definition.
    writeFileSync(file, lines.join("\n").replace("nn < 5", "n < 5"));
    const ok = io();
    expect(await runCli(["pipeline", "apply", "--team", team, "-f", file], ok.cio), ok.err.join("\n")).toBe(0);
    expect(ok.out).toEqual(["Saved diag version 1"]);
    const { deleteStream } = await import("@/lib/warehouse/streams");
    const { ownerOf } = await import("./context");
    await deleteStream(await ownerOf(team), team, src, { force: true });
    const dp = io();
    expect(await runCli(["pipeline", "deploy", "--team", team, "--name", "diag"], dp.cio)).toBe(1);
    expect(dp.err[0]).toMatch(new RegExp(`^error: config\\.stream: stream "${src.replace(/\./g, "\\.")}" does not exist or you cannot read it.* \\[unknown-stream, node s\\]$`));
    expect(dp.err.at(-1)).toBe("error: Version 1 no longer validates against the catalog; fix the errors and save a new version.");
  });
});

describe.skipIf(!process.env.KAFKA_BROKERS)("sluice stream produce: all lines or none", () => {
  let team: string;
  const schema = JSON.stringify([{ name: "user_id", type: "string" }, { name: "amount", type: "float" }]);
  const line = (i: number) => JSON.stringify({ user_id: `u${i}`, amount: i });
  const lines = (n: number) => Array.from({ length: n }, (_, i) => line(i + 1));
  async function freshStream(partitions = 3): Promise<string> {
    const name = `ods.${uniqueName("prod")}`;
    expect(await runCli(["stream", "create", "--team", team, "--name", name, "--layer", "ODS", "--schema", schema, "--partitions", String(partitions)], io().cio)).toBe(0);
    return name;
  }
  async function file(name: string, content: string | Buffer): Promise<string> {
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const path = join(mkdtempSync(join(tmpdir(), "sluice-produce-")), name);
    writeFileSync(path, content);
    return path;
  }

  beforeAll(async () => {
    const email = `${uniqueName("prod")}@example.test`;
    team = uniqueName("prod");
    await runCli(["user", "create", "--email", email, "--name", "P", "--password-stdin"], io("a long enough password").cio);
    await runCli(["team", "create", "--name", "Prod", "--slug", team, "--owner", email], io().cio);
  });

  it("writes nothing when line 5,001 is bad after 5,000 good ones, and says which line, field and why", async () => {
    const name = await freshStream();
    const path = await file("clicks.ndjson", [...lines(5_000), JSON.stringify({ user_id: "u5001", amount: "12" })].join("\n") + "\n");
    const r = io();
    expect(await runCli(["stream", "produce", "--team", team, "--name", name, "-f", path], r.cio)).toBe(1);
    expect(r.err).toEqual([`${path}:5001: error: value.amount: expected float, got string`, `error: 1 problem(s) in 1 of 5001 line(s) of ${path}; nothing was written to ${name}.`]);
    expect(await appendedOffsets(name)).toBe(0);
    // The same from standard input.
    const s = io([...lines(10), "{oops"].join("\n"));
    expect(await runCli(["stream", "produce", "--team", team, "--name", name], s.cio)).toBe(1);
    expect(s.err[0]).toBe("stdin:11:2: error: not valid JSON: expected property name or '}'");
    expect(await appendedOffsets(name)).toBe(0);
  });

  it("writes every line in one transaction when all are good", async () => {
    const name = await freshStream();
    const r = io();
    expect(await runCli(["stream", "produce", "--team", team, "--name", name, "-f", await file("ok.ndjson", lines(5_001).join("\r\n") + "\r\n\r\n"), "--key", "user_id"], r.cio)).toBe(0);
    expect(r.out).toEqual([`Produced 5001 record(s) to ${name}`]);
    const stored = await committedValues(name);
    expect(stored.length).toBe(5_001);
    expect(stored.every((x) => x.key === JSON.parse(x.value).user_id)).toBe(true);
  });

  it("reports exactly which lines were written when a later transaction of a large input fails", async () => {
    const name = await freshStream();
    const path = await file("big.ndjson", lines(3_000).join("\n") + "\n");
    // Transactions of at most ~20 KB (about 600 lines each); the third fails after sending, before its commit.
    const r = await runSluice(["stream", "produce", "--team", team, "--name", name, "-f", path, "--max-transaction-bytes", "20000"], { env: { SLUICE_FAULT_FAIL_PRODUCE_TRANSACTION: "3" } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const m = /^error: lines 1–(\d+) \((\d+) record\(s\)\) were written; lines (\d+)–3000 were not\. The warehouse answered: fault injected before the commit of transaction 3\n$/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const through = Number(m![1]);
    expect(Number(m![2])).toBe(through);
    expect(Number(m![3])).toBe(through + 1);
    expect(through).toBeGreaterThan(600);
    // Exactly the reported lines are visible; the aborted transaction's records are not.
    const stored = (await committedValues(name)).map((x) => JSON.parse(x.value).amount).sort((a: number, b: number) => a - b);
    expect(stored).toEqual(Array.from({ length: through }, (_, i) => i + 1));
  });

  it("refuses bytes that are not UTF-8 with the line and column instead of storing U+FFFD", async () => {
    const name = await freshStream(1);
    const bad = Buffer.concat([Buffer.from(line(1) + "\n" + '{"user_id":"caf'), Buffer.from([0xe9]), Buffer.from('","amount":2}\n')]);
    const r = io();
    expect(await runCli(["stream", "produce", "--team", team, "--name", name, "-f", await file("latin1.ndjson", bad)], r.cio)).toBe(1);
    expect(r.err[0]).toMatch(/latin1\.ndjson:2:16: error: not valid UTF-8: byte 0xe9 at byte 16 of the line/);
    expect(await appendedOffsets(name)).toBe(0);
  });

  it("refuses a record over the topic's size limit up front, naming the limit, without a client library's log", async () => {
    const name = await freshStream(1);
    const r = await runSluice(["stream", "produce", "--team", team, "--name", name], { stdin: JSON.stringify({ user_id: "x".repeat(5 * 1024 * 1024), amount: 1 }) + "\n" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stdin:1: error: too large: 5,242,9\d\d bytes encoded, and stream ".*" takes records up to 1,048,527 bytes \(its topic's max\.message\.bytes, 1,048,588, less the 61-byte batch header\)\n/);
    expect(r.stderr).not.toMatch(/"level"|"namespace"|kafkajs|KafkaJS/);
    expect(await appendedOffsets(name)).toBe(0);
  });

  it("refuses a record nested deeper than the limit", async () => {
    const name = await freshStream(1);
    const r = io(JSON.stringify({ user_id: "x", amount: 1, extra: JSON.parse("[".repeat(100) + "]".repeat(100)) }));
    expect(await runCli(["stream", "produce", "--team", team, "--name", name], r.cio)).toBe(1);
    expect(r.err[0]).toBe("stdin:1: error: value: nests objects and lists more than 64 levels deep (the limit, SLUICE_MAX_JSON_DEPTH)");
  });
});

describe("the sluice command, run as a process", () => {
  it("works from any directory through a symlinked bin (npm link), with clean output", async () => {
    const { mkdtempSync, symlinkSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    // What `npm link` makes: <prefix>/bin/sluice -> the project's bin/sluice.mjs, run from elsewhere.
    const elsewhere = mkdtempSync(join(tmpdir(), "sluice-elsewhere-"));
    const linked = join(elsewhere, "sluice");
    symlinkSync(SLUICE_BIN, linked);
    const email = `${uniqueName("proc")}@example.test`;
    const user = await runSluice(["user", "create", "--email", email, "--name", "Proc", "--password-stdin"], { cwd: elsewhere, bin: linked, stdin: "a long enough password\n" });
    expect(user, user.stderr).toMatchObject({ code: 0, stderr: "" });
    expect(user.stdout).toContain(`Created user ${email}`);
    // Writes through an interactive transaction with relation loads: the path that printed pg's
    // "client.query() when the client is already executing a query" DeprecationWarning.
    const slug = uniqueName("proc");
    const team = await runSluice(["team", "create", "--name", "Proc", "--slug", slug, "--owner", email], { cwd: elsewhere, bin: linked });
    expect(team).toEqual({ code: 0, stdout: `Created team Proc (slug: ${slug}), owner ${email}\n`, stderr: "" });
    const list = await runSluice(["team", "list"], { cwd: elsewhere, bin: linked });
    expect(list.stderr).toBe("");
    expect(list.stdout).toContain(`${slug}\tProc\t1 member(s)`);
  });

  it.skipIf(!process.env.KAFKA_BROKERS)("prints nothing but its result when a command writes through a transaction that loads relations", async () => {
    const { writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const email = `${uniqueName("clean")}@example.test`;
    const slug = uniqueName("clean");
    expect((await runSluice(["user", "create", "--email", email, "--name", "C", "--password-stdin"], { stdin: "a long enough password" })).code).toBe(0);
    expect((await runSluice(["team", "create", "--name", "C", "--slug", slug, "--owner", email])).code).toBe(0);
    // stream create and a new pipeline's create load relations inside an interactive transaction: the
    // path that printed pg's "client.query() when the client is already executing a query" warning.
    const src = `ods.${uniqueName("clean")}`;
    const created = await runSluice(["stream", "create", "--team", slug, "--name", src, "--layer", "ODS", "--partitions", "1", "--schema", '[{"name":"n","type":"int"}]']);
    expect(created).toEqual({ code: 0, stdout: `Created stream ${src} (ODS, 1 partitions, schema v1)\n`, stderr: "" });
    const sink = `dwd.${uniqueName("clean")}`;
    expect((await runSluice(["stream", "create", "--team", slug, "--name", sink, "--layer", "DWD", "--partitions", "1", "--schema", '[{"name":"n","type":"int"}]'])).stderr).toBe("");
    const cwd = (await import("node:fs")).mkdtempSync(join((await import("node:os")).tmpdir(), "sluice-apply-"));
    writeFileSync(join(cwd, "copy.json"), JSON.stringify({ name: "copy", pipeline: { version: 1, nodes: [
      { id: "s", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
      { id: "o", type: "sink", config: { stream: sink }, position: { x: 1, y: 0 } },
    ], edges: [{ source: "s", target: "o" }] } }));
    // -f relative to the directory the command runs in.
    const applied = await runSluice(["pipeline", "apply", "--team", slug, "-f", "copy.json"], { cwd });
    expect(applied).toEqual({ code: 0, stdout: "Saved copy version 1\n", stderr: "" });
  });

  it("says why it cannot run when Sluice is not running, instead of exiting silently", async () => {
    const env = { DATABASE_URL: "", REDIS_URL: "", KAFKA_BROKERS: "", CLICKHOUSE_URL: "" };
    const r = await runSluice(["team", "list"], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/cannot reach Sluice: there is no .*no-data-here\/sluice\.env/);
    expect(r.stderr).toMatch(/npm start/);
    const help = await runSluice(["--help"], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: sluice/);
  });

  it("rejects a non-numeric number option as a usage error", async () => {
    const r = io();
    expect(await runCli(["stream", "create", "--team", "t", "--name", "ods.x", "--layer", "ODS", "--schema", "[]", "--partitions", "three"], r.cio)).toBe(2);
    expect(r.err.join("\n")).toMatch(/--partitions <n>.*expected a whole number/);
  });
});
