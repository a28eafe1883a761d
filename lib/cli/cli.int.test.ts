import { afterAll, describe, expect, it } from "vitest";
import { closeKafka } from "@/lib/kafka/shared";
import { closeRedis } from "@/lib/redis/client";
import { closeTaskQueue } from "@/lib/runtime/task-queue";
import * as me from "@/app/api/v1/me/route";
import { bearer, call, uniqueName } from "@/scripts/testing/api";
import { runCli, type CliIO } from "./main";

afterAll(async () => {
  await Promise.allSettled([closeTaskQueue(), closeKafka(), closeRedis()]);
});

function io(stdin = "") {
  const out: string[] = [];
  const err: string[] = [];
  const cio: CliIO = { out: (l) => out.push(l), err: (l) => err.push(l), readStdin: async () => stdin };
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
    expect(bad.err.join()).toMatch(/line 1 is not valid JSON/);

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
