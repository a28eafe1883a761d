import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as teams from "@/app/api/v1/teams/route";
import * as pipelinesRoute from "@/app/api/v1/teams/[team]/pipelines/route";
import * as rulesRoute from "@/app/api/v1/teams/[team]/alerts/rules/route";
import * as channelsRoute from "@/app/api/v1/teams/[team]/alerts/channels/route";
import * as deliveriesRoute from "@/app/api/v1/teams/[team]/alerts/deliveries/route";
import { closeDeliveryQueue, startDeliveryProcessor } from "@/lib/alerts/deliveries";
import { evaluateAlertsOnce } from "@/lib/alerts/evaluator";
import { resetOperationsEnv } from "@/lib/env/operations";
import { createRedis } from "@/lib/redis/client";
import { call, signUp, uniqueName, type TestUser } from "@/scripts/testing/api";

/** A real SMTP server on a free port (smtp-server, nodemailer's companion), keeping every message. */
const mails: { from: string; to: string[]; data: string }[] = [];
let smtp: SMTPServer;
let owner: TestUser;
let team: string;
const redis = createRedis();

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, cb) {
      let data = "";
      stream.on("data", (c: Buffer) => (data += c.toString("utf8")));
      stream.on("end", () => {
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address), data });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", () => r()));
  process.env.SMTP_URL = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
  process.env.SMTP_FROM = "Sluice alerts <alerts@sluice.test>";
  resetOperationsEnv();
  owner = await signUp();
  team = uniqueName("mail");
  expect((await call(teams.POST, { caller: owner, body: { name: "Mail", slug: team } })).status).toBe(201);
});

afterAll(async () => {
  await closeDeliveryQueue();
  redis.disconnect();
  await new Promise<void>((r) => smtp.close(() => r()));
  delete process.env.SMTP_URL;
  delete process.env.SMTP_FROM;
  resetOperationsEnv();
});

describe("e-mail alert channels", () => {
  it("are refused without SMTP_URL and, with it, deliver a firing as a plain-text e-mail", async () => {
    const url = process.env.SMTP_URL!;
    delete process.env.SMTP_URL;
    resetOperationsEnv();
    const refused = await call(channelsRoute.POST, { caller: owner, params: { team }, body: { kind: "email", name: "ops", to: ["ops@example.test"] } });
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toContain("SMTP_URL");
    process.env.SMTP_URL = url;
    resetOperationsEnv();

    expect((await call(channelsRoute.POST, { caller: owner, params: { team }, body: { kind: "email", name: "ops", to: ["ops@example.test", "oncall@example.test"] } })).status).toBe(201);
    const pipeline = uniqueName("idle");
    expect((await call(pipelinesRoute.POST, { caller: owner, params: { team }, body: { name: pipeline } })).status).toBe(201);
    // A pipeline that is not deployed reads 0 records/s: below any floor; fires after holding 1 s.
    const rule = await call(rulesRoute.POST, { caller: owner, params: { team }, body: { name: "idle-floor", pipeline, condition: "throughput_below", threshold: 5, for: "1s", channels: ["ops"] } });
    expect(rule.status).toBe(201);
    // The evaluator sees every team's rules (other tests' too): look at this one's transitions.
    const mine = (r: { transitions: { ruleId: string; event: string }[] }) => r.transitions.filter((t) => t.ruleId === rule.body.id).map((t) => t.event);
    const processor = startDeliveryProcessor();
    try {
      expect(mine(await evaluateAlertsOnce(redis))).toEqual(["pending"]);
      await new Promise((r) => setTimeout(r, 1_100));
      expect(mine(await evaluateAlertsOnce(redis))).toEqual(["firing"]);
      expect(mine(await evaluateAlertsOnce(redis))).toEqual([]);
      const deadline = Date.now() + 20_000;
      while (!mails.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await processor.close();
    }
    expect(mails).toHaveLength(1);
    // The body is quoted-printable (the message has non-ASCII characters): decode it as a mail client would.
    const body = Buffer.from(mails[0].data.split(/\r?\n\r?\n/).slice(1).join("\n").replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8");
    expect(mails[0].from).toBe("alerts@sluice.test");
    expect(mails[0].to).toEqual(["ops@example.test", "oncall@example.test"]);
    expect(mails[0].data).toMatch(/Subject: \[Sluice\] FIRING: idle-floor \(pipeline /);
    expect(body).toContain(`Firing: idle-floor on pipeline ${pipeline} — fewer than 5 records/s for 1 s (now 0).`);
    expect(body).toContain(`/t/${team}/pipelines/${pipeline}/monitor`);
    const log = (await call(deliveriesRoute.GET, { caller: owner, params: { team } })).body.deliveries;
    expect(log[0]).toMatchObject({ channel: "ops", channelKind: "email", status: "delivered", attempts: 1 });
  });
});
