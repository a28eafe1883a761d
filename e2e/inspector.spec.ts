import { expect, test } from "@playwright/test";
import { shot, signUpWithTeam } from "./support";


test("inspector: UDF test run on the source's newest records, CEL completion and diagnostics, a sink stream created in place", async ({ page }) => {
  const id = Math.random().toString(36).slice(2, 7);
  const team = `inspector-${id}`;
  await signUpWithTeam(page, { name: "Ines", email: `ines-${id}@example.test`, team });

  const [src, out] = [`ods.orders-${id}`, `dwd.orders-${id}`];
  const schema = [{ name: "user_id", type: "string" }, { name: "amount", type: "float" }];
  for (const name of [src, out]) expect((await page.request.post(`/api/v1/teams/${team}/streams`, { data: { name, layer: name.startsWith("ods") ? "ODS" : "DWD", partitions: 1, schema } })).status()).toBe(201);
  const records = [5, 25].map((amount, i) => ({ value: { user_id: `u${i}`, amount } }));
  expect((await page.request.post(`/api/v1/teams/${team}/streams/${src}/records`, { data: { records } })).status()).toBe(200);
  expect((await page.request.post(`/api/v1/teams/${team}/pipelines`, { data: { name: "orders" } })).status()).toBe(201);
  const v1 = {
    version: 1,
    nodes: [
      { id: "source-1", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
      { id: "udf-1", type: "udf", config: { function: { inline: { form: "map", source: "(r) => r" } } }, position: { x: 240, y: 0 } },
      { id: "filter-1", type: "filter", config: { predicate: "true" }, position: { x: 480, y: 0 } },
      { id: "sink-1", type: "sink", config: { stream: out }, position: { x: 720, y: 0 } },
    ],
    edges: [{ source: "source-1", target: "udf-1" }, { source: "udf-1", target: "filter-1" }, { source: "filter-1", target: "sink-1" }],
  };
  expect((await page.request.post(`/api/v1/teams/${team}/pipelines/orders/versions`, { data: { pipeline: v1, message: "start" } })).status()).toBe(201);
  await page.goto(`/t/${team}/pipelines/orders`);

  // UDF: write a function in place and test-run it on the source stream's newest records (server-side sandbox).
  await page.locator('.react-flow__node[data-id="udf-1"]').click();
  const testRun = page.getByRole("region", { name: "Test run" });
  await expect(testRun).toContainText(`On the newest records of ${src}`);
  await page.getByLabel("Function source").fill('(r) => { if (r.amount > 20) throw new Error("too big"); return { ...r, cents: r.amount * 100 }; }');
  await testRun.getByRole("button", { name: "Test run" }).click();
  await expect(testRun.getByRole("status")).toHaveText("2 in · 1 out · 1 error(s)");
  await expect(testRun).toContainText('out: {"user_id":"u0","amount":5,"cents":500}');
  await expect(testRun).toContainText("error: function threw Error: too big");
  await page.screenshot(shot("30-inspector-udf-test-run"));

  // The same node can call a registry function instead, picked by name and version.
  expect((await page.request.post(`/api/v1/teams/${team}/functions`, { data: { name: "add_cents", form: "map", source: "(r) => ({ ...r, cents: r.amount * 100 })" } })).status()).toBe(201);
  await page.getByLabel("from the registry").check();
  await page.getByLabel("Registry function").selectOption("add_cents");
  await page.getByLabel("Version", { exact: true }).selectOption("1");
  await testRun.getByRole("button", { name: "Test run" }).click();
  await expect(testRun.getByRole("status")).toHaveText("2 in · 2 out · 0 error(s) · add_cents v1");
  await expect(testRun).toContainText('out: {"user_id":"u1","amount":25,"cents":2500}');

  // Filter: the CEL editor completes an input field, flags a misspelt one as you type, and the validator's message sits under the field.
  await page.locator('.react-flow__node[data-id="filter-1"]').click();
  const predicate = page.getByLabel("Predicate");
  await predicate.fill("");
  await predicate.pressSequentially("amo");
  await expect(page.locator(".cm-tooltip-autocomplete")).toContainText("amount");
  // CodeMirror ignores Enter for 75 ms after the list opens (interactionDelay, so a
  // fast typist's Enter is not taken as a pick); a machine faster than a person hits it.
  await page.waitForTimeout(150);
  await page.keyboard.press("Enter");
  await expect(predicate).toHaveText("amount");
  await predicate.pressSequentially(" > 10.0 && amout < 100.0");
  await expect(page.locator(".cm-lintRange-error")).toHaveText("amout");
  await expect(page.getByTestId("diagnostics-config.predicate")).toContainText('did you mean "amount"');
  await page.screenshot(shot("31-inspector-cel-diagnostic"));
  await predicate.fill("amount > 10.0");
  await expect(page.getByTestId("diagnostics-config.predicate")).toHaveCount(0);
  // Tab leaves the expression editor for the next control (it does not insert a tab).
  await page.keyboard.press("Tab");
  await expect(predicate).not.toBeFocused();
  await expect(predicate).toHaveText("amount > 10.0");

  // Sink: create a new stream from the sink's input schema without leaving the canvas.
  await page.locator('.react-flow__node[data-id="sink-1"]').click();
  await expect(page.getByTestId("stream-summary")).toContainText("DWD");
  await page.getByRole("button", { name: "+ Create a new stream for this sink" }).click();
  await page.getByLabel("New stream name").fill(`dws.orders-big-${id}`);
  await page.getByRole("button", { name: "Create stream" }).click();
  await expect(page.getByLabel("Stream", { exact: true })).toHaveValue(`dws.orders-big-${id}`);
  const created = await (await page.request.get(`/api/v1/teams/${team}/streams/dws.orders-big-${id}`)).json();
  expect(created.schema.map((f: { name: string }) => f.name)).toEqual(["user_id", "amount"]);
});
