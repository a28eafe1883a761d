import { afterAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as streamsRoute from "@/app/api/v1/teams/[team]/streams/route";
import * as channelsRoute from "@/app/api/v1/teams/[team]/alerts/channels/route";
import { closeKafka } from "@/lib/kafka/shared";
import { closeRedis } from "@/lib/redis/client";
import { call, copyPipeline, createPipelineWithVersion, signUp, uniqueName } from "@/scripts/testing/api";
import { runCli } from "./main";
import { bufferIO } from "./testing";

afterAll(async () => {
  await Promise.allSettled([closeKafka(), closeRedis()]);
});

const cli = async (argv: string[]) => {
  const { io, out, err } = bufferIO("");
  const code = await runCli(argv, io);
  return { code, out: out.join("\n"), err: err.join("\n") };
};

describe("sluice alert", () => {
  it("creates a webhook channel and a rule, lists them, shows the history and deletes them", async () => {
    const owner = await signUp();
    const team = uniqueName("cli-alerts");
    expect((await call(teams.POST, { caller: owner, body: { name: "CLI alerts", slug: team } })).status).toBe(201);
    const src = `ods.${uniqueName("in")}`;
    const sink = `dwd.${uniqueName("out")}`;
    for (const s of [src, sink]) expect((await call(streamsRoute.POST, { caller: owner, params: { team }, body: { name: s, layer: "ODS", partitions: 1, schema: [{ name: "id", type: "string" }] } })).status).toBe(201);
    const pipeline = uniqueName("copy");
    await createPipelineWithVersion(owner, team, pipeline, copyPipeline(src, sink));

    const ch = await cli(["alert", "channel", "create", "--team", team, "--name", "oncall", "--webhook", "https://hooks.example.com/sluice/T0?token=abc"]);
    expect(ch.code, ch.err).toBe(0);
    expect(ch.out).toMatch(/^whsec_/);
    expect(ch.err).toMatch(/not shown again/);
    expect(ch.err).not.toContain("token=abc");
    const listedChannels = await cli(["alert", "channel", "list", "--team", team]);
    expect(listedChannels.out).toContain("oncall");
    expect(listedChannels.out).toContain("https://hooks.example.com/…");
    expect((await call(channelsRoute.GET, { caller: owner, params: { team } })).body.channels.map((c: { name: string }) => c.name)).toEqual(["oncall"]);

    const made = await cli(["alert", "create", "--team", team, "--name", "copy-lag", "--pipeline", pipeline, "--condition", "consumer_lag", "--threshold", "1000", "--for", "2m", "--channel", "oncall"]);
    expect(made.code, made.err).toBe(0);
    expect(made.out).toBe(`Created rule copy-lag: pipeline ${pipeline} — consumer lag above 1,000 records for 2 min; notifies inbox, oncall.`);
    const list = await cli(["alert", "list", "--team", team]);
    expect(list.out.split("\n")[0]).toMatch(/^NAME\s+WATCHES\s+STATE/);
    expect(list.out).toMatch(new RegExp(`copy-lag\\s+pipeline ${pipeline}\\s+ok`));
    const json = JSON.parse((await cli(["alert", "list", "--team", team, "--json"])).out);
    expect(json[0]).toMatchObject({ name: "copy-lag", condition: "consumer_lag", threshold: 1000, forSeconds: 120, channels: ["oncall"] });
    const history = await cli(["alert", "history", "--team", team, "--name", "copy-lag"]);
    expect(history.code).toBe(0);
    expect(history.err).toBe("Nothing has happened yet.");

    // Mistakes say what to fix and exit 1; usage errors exit 2.
    const wrong = await cli(["alert", "create", "--team", team, "--name", "x", "--stream", src, "--condition", "consumer_lag"]);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain("applies to pipelines");
    expect((await cli(["alert", "create", "--team", team, "--name", "y", "--pipeline", pipeline, "--condition", "error_rate", "--threshold", "lots"])).code).toBe(2);
    const priv = await cli(["alert", "channel", "create", "--team", team, "--name", "redis", "--webhook", "http://127.0.0.1:6379/"]);
    expect(priv.code).toBe(1);
    expect(priv.err).toContain("SLUICE_WEBHOOK_ALLOW_PRIVATE=true");

    expect((await cli(["alert", "delete", "--team", team, "--name", "copy-lag"])).out).toBe("Deleted rule copy-lag.");
    expect((await cli(["alert", "list", "--team", team])).err).toMatch(/no alert rules/);
    expect((await cli(["alert", "channel", "delete", "--team", team, "--name", "oncall"])).code).toBe(0);
  });
});
