import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { shot, signUpWithTeam } from "./support";

/** A webhook receiver on 127.0.0.1 (the e2e server allows private targets: SLUICE_WEBHOOK_ALLOW_PRIVATE=true). */
async function startReceiver() {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sluice-hook`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** What a receiver does with X-Sluice-Signature: t=<unix>,v1=HMAC-SHA256(secret, "<t>.<body>"). */
function signatureValid(secret: string, header: string | string[] | undefined, body: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(header ?? ""));
  return !!m && createHmac("sha256", secret).update(`${m[1]}.${body}`).digest("hex") === m[2];
}

test("deploy a pipeline, watch the monitor fill, then a lag alert fires to a signed webhook and the inbox while the pipeline is stopped, and resolves on resume", async ({ page }) => {
  test.setTimeout(300_000);
  const receiver = await startReceiver();
  const id = Math.random().toString(36).slice(2, 7);
  const team = `ops-${id}`;
  await signUpWithTeam(page, { name: "Olga", email: `olga-${id}@example.test`, team });
  const src = `ods.orders-${id}`;
  const sink = `dwd.big-orders-${id}`;
  const schema = [{ name: "user_id", type: "string" }, { name: "amount", type: "float" }];
  expect((await page.request.post(`/api/v1/teams/${team}/streams`, { data: { name: src, layer: "ODS", partitions: 2, schema } })).status()).toBe(201);
  expect((await page.request.post(`/api/v1/teams/${team}/streams`, { data: { name: sink, layer: "DWD", partitions: 1, schema } })).status()).toBe(201);
  const pipeline = "big-orders";
  expect((await page.request.post(`/api/v1/teams/${team}/pipelines`, { data: { name: pipeline } })).status()).toBe(201);
  const definition = {
    version: 1,
    nodes: [
      { id: "orders", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
      { id: "big", type: "filter", config: { predicate: "amount > 10.0" }, position: { x: 200, y: 0 } },
      { id: "out", type: "sink", config: { stream: sink }, position: { x: 400, y: 0 } },
    ],
    edges: [{ source: "orders", target: "big" }, { source: "big", target: "out" }],
  };
  expect((await page.request.post(`/api/v1/teams/${team}/pipelines/${pipeline}/versions`, { data: { pipeline: definition } })).status()).toBe(201);
  expect((await page.request.post(`/api/v1/teams/${team}/pipelines/${pipeline}/deploy`, { data: {} })).status()).toBe(200);
  await expect.poll(async () => (await (await page.request.get(`/api/v1/teams/${team}/pipelines/${pipeline}/status`)).json()).actualState, { timeout: 60_000 }).toBe("running");

  const produce = async (n: number) => {
    const records = Array.from({ length: n }, (_, i) => ({ key: `u${i % 5}`, value: { user_id: `u${i}`, amount: i % 3 === 0 ? 5 : 50 } }));
    expect((await page.request.post(`/api/v1/teams/${team}/streams/${src}/records`, { data: { records } })).status()).toBe(200);
  };
  await produce(60);

  // The Monitor tab: one chart per node, filled from ClickHouse; the newest minute updates live.
  await page.goto(`/t/${team}/pipelines/${pipeline}`);
  await page.getByRole("tab", { name: "Monitor" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${team}/pipelines/${pipeline}/monitor$`));
  const charts = page.getByTestId("node-charts");
  await expect(charts.getByRole("figure", { name: /^orders \(source\)/ }).getByTestId("chart")).toHaveAttribute("data-ready", "true", { timeout: 30_000 });
  await expect(charts.getByRole("figure")).toHaveCount(3);
  // The legend shows the newest values as the cursor moves; hovering the last minute shows 60 records in.
  await produce(40);
  await expect(page.getByTestId("reconciliation-summary")).toBeVisible();
  await expect(page.getByTestId("balance-strip").locator('[data-status="pending"], [data-status="balanced"]').first()).toBeVisible({ timeout: 30_000 });
  await page.screenshot(shot("60-monitor"));

  // The fleet overview lists the pipeline and the worker.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Monitor" }).click();
  await expect(page.getByTestId(`fleet-row-${pipeline}`)).toContainText("running");
  await expect(page.getByRole("table", { name: "Worker processes" }).getByText("alive").first()).toBeVisible();
  await page.screenshot(shot("61-fleet"));

  // A webhook channel to the local receiver, created in the UI; its signing secret is shown once.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("tab", { name: "Channels" }).click();
  const channelForm = page.getByRole("form", { name: "New channel" });
  await channelForm.getByLabel("Channel name").fill("receiver");
  await channelForm.getByLabel("Webhook URL").fill(receiver.url);
  await channelForm.getByRole("button", { name: "Create channel" }).click();
  const secret = (await page.getByTestId("webhook-secret").textContent())!.trim();
  expect(secret).toMatch(/^whsec_/);

  // A consumer-lag rule on the pipeline that notifies it.
  await page.getByRole("tab", { name: "Rules" }).click();
  const ruleForm = page.getByRole("form", { name: "New alert rule" });
  await ruleForm.getByLabel("Rule name").fill("orders-lag");
  await ruleForm.getByLabel("Pipeline", { exact: true }).selectOption(pipeline);
  await ruleForm.getByLabel("Condition").selectOption("consumer_lag");
  await ruleForm.getByLabel("Records behind").fill("10");
  await ruleForm.getByLabel("For at least").fill("4s");
  await ruleForm.getByLabel("receiver").check();
  await page.screenshot(shot("62-alert-rule-form"));
  await ruleForm.getByRole("button", { name: "Create rule" }).click();
  await expect(page.getByTestId("rule-row-orders-lag")).toContainText("ok");

  // Stop the pipeline while records keep arriving: the lag grows past 10 and the rule fires.
  // (A stop returns at once; its task leaves at its next committed point, which the status shows.)
  expect((await page.request.post(`/api/v1/teams/${team}/pipelines/${pipeline}/stop`, { data: {} })).status()).toBe(200);
  await expect.poll(async () => (await (await page.request.get(`/api/v1/teams/${team}/pipelines/${pipeline}/status`)).json()).actualState, { timeout: 30_000 }).toBe("stopped");
  await produce(30);
  await produce(30);
  await expect(page.getByTestId("rule-row-orders-lag")).toContainText("firing", { timeout: 60_000 });
  await expect(page.getByTestId("inbox-badge")).toHaveText("1", { timeout: 30_000 });
  await page.screenshot(shot("63-alert-firing"));
  await expect.poll(() => receiver.received.length, { timeout: 30_000 }).toBe(1);
  const firing = receiver.received[0];
  expect(signatureValid(secret, firing.headers["x-sluice-signature"], firing.body)).toBe(true);
  expect(JSON.parse(firing.body)).toMatchObject({ type: "alert.firing", team, rule: { name: "orders-lag" }, target: { kind: "pipeline", name: pipeline } });
  expect(JSON.parse(firing.body).value).toBeGreaterThan(10);

  // The inbox lists it; reading it clears the badge.
  await page.getByRole("tab", { name: "Inbox" }).click();
  await expect(page.getByTestId("inbox-item").first()).toContainText("Firing: orders-lag");
  await expect(page.getByTestId("inbox-badge")).toHaveCount(0, { timeout: 15_000 });
  await page.getByRole("tab", { name: "Delivery log" }).click();
  await expect(page.getByTestId("delivery-row").first()).toContainText("delivered");
  await page.screenshot(shot("64-delivery-log"));

  // Resume: the pipeline catches up, the rule resolves, and the receiver hears that too.
  expect((await page.request.post(`/api/v1/teams/${team}/pipelines/${pipeline}/resume`, { data: {} })).status()).toBe(200);
  await page.getByRole("tab", { name: "Rules" }).click();
  await expect(page.getByTestId("rule-row-orders-lag")).toContainText("ok", { timeout: 90_000 });
  await expect.poll(() => receiver.received.length, { timeout: 30_000 }).toBe(2);
  expect(signatureValid(secret, receiver.received[1].headers["x-sluice-signature"], receiver.received[1].body)).toBe(true);
  expect(JSON.parse(receiver.received[1].body)).toMatchObject({ type: "alert.resolved", rule: { name: "orders-lag" } });
  await page.getByRole("tab", { name: "Inbox" }).click();
  await expect(page.getByTestId("inbox-item").first()).toContainText("Resolved: orders-lag");
  await page.screenshot(shot("65-alert-resolved"));

  // The monitor marks the stop and the resume on every chart and lists the rule.
  await page.goto(`/t/${team}/pipelines/${pipeline}/monitor`);
  await expect(page.getByTestId("pipeline-rule-orders-lag")).toContainText("ok");
  await expect(page.getByRole("region", { name: "Timeline" })).toContainText("resumed v1");
  await page.screenshot(shot("66-monitor-after-alert"));
  await receiver.close();
});
