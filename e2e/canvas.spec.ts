import { expect, test } from "@playwright/test";
import { connect, shot, signUpWithTeam } from "./support";



test("build Source → Filter → Sink on the canvas, fix a validation error, preview, save and deploy", async ({ page }) => {
  const id = Math.random().toString(36).slice(2, 7);
  const team = `canvas-${id}`;
  await signUpWithTeam(page, { name: "Cara", email: `cara-${id}@example.test`, team });

  const schema = [{ name: "user_id", type: "string" }, { name: "amount", type: "float" }];
  for (const [name, layer] of [[`ods.clicks-${id}`, "ODS"], [`dwd.big-${id}`, "DWD"]]) {
    expect((await page.request.post(`/api/v1/teams/${team}/streams`, { data: { name, layer, partitions: 1, schema } })).status()).toBe(201);
  }
  // Sample records, produced by hand on the stream's page.
  await page.goto(`/t/${team}/streams/ods.clicks-${id}`);
  await page.getByLabel("Records, one JSON object per line").fill([5, 15, 25].map((amount, i) => JSON.stringify({ user_id: `u${i}`, amount })).join("\n"));
  await page.getByRole("button", { name: "Produce" }).click();
  await expect(page.getByText("Wrote 3 records.")).toBeVisible();
  await expect(page.getByTestId("records-table")).toContainText('"amount":25');
  await page.screenshot(shot("19-produce-records"));
  await page.goto(`/t/${team}/pipelines`);

  await page.getByLabel("New pipeline name").fill("big-clicks");
  await page.getByRole("button", { name: "New pipeline" }).click();
  await expect(page.getByText("Drag a Source here to start")).toBeVisible();

  const palette = page.getByRole("complementary", { name: "Palette" });
  await palette.getByRole("button", { name: /^Source/ }).click();
  await page.getByLabel("Stream").selectOption(`ods.clicks-${id}`);
  await palette.getByRole("button", { name: /^Filter/ }).click();
  await page.getByLabel("Predicate").fill("amout > 10.0");
  await palette.getByRole("button", { name: /^Sink/ }).click();
  await page.getByLabel("Stream").selectOption(`dwd.big-${id}`);
  await page.getByRole("button", { name: "Fit View" }).click();
  await connect(page, "source-1", "filter-1");
  await connect(page, "filter-1", "sink-1");

  // The misspelt field is flagged on the Filter node; fixing it clears the badge.
  const filterNode = page.locator('.react-flow__node[data-id="filter-1"]');
  await expect(filterNode.getByTestId("node-error-badge")).toBeVisible();
  await page.screenshot(shot("20-canvas-error"));
  await filterNode.click();
  await page.getByLabel("Predicate").fill("amount > 10.0");
  await expect(filterNode.getByTestId("node-error-badge")).toHaveCount(0);

  // Refused connections say why: the Sink already has its one input.
  const nodes = page.locator(".react-flow__node");
  const edges = page.locator(".react-flow__edge");
  const sinkInput = page.locator('.react-flow__node[data-id="sink-1"] .react-flow__handle.target');
  const idleColour = await sinkInput.evaluate((el) => getComputedStyle(el).backgroundColor);
  const from = (await page.locator('.react-flow__node[data-id="source-1"] .react-flow__handle.source').boundingBox())!;
  const to = (await sinkInput.boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 8 });
  // While hovered, the refused input is marked (and coloured) invalid.
  await expect(sinkInput).toHaveClass(/connectingto/);
  await expect(sinkInput).not.toHaveClass(/(^|\s)valid(\s|$)/);
  expect(await sinkInput.evaluate((el) => getComputedStyle(el).backgroundColor)).not.toBe(idleColour);
  await page.mouse.up();
  await expect(page.getByRole("status")).toContainText("Sink sink-1 already has an input (from filter-1)");
  await expect(edges).toHaveCount(2);

  // Undo/redo from the keyboard and the toolbar.
  await palette.getByRole("button", { name: /^Projection/ }).click();
  await expect(nodes).toHaveCount(4);
  await page.locator(".react-flow__pane").click({ position: { x: 5, y: 5 } });
  await page.keyboard.press("ControlOrMeta+z");
  await expect(nodes).toHaveCount(3);
  await page.keyboard.press("ControlOrMeta+Shift+z");
  await expect(nodes).toHaveCount(4);
  await page.getByRole("button", { name: "Undo" }).click();
  await expect(nodes).toHaveCount(3);
  await expect(page.getByRole("button", { name: "Redo" })).toBeEnabled();

  // Copy/paste Filter + Sink (shift-click multi-select): new ids, and the edge between them comes along.
  await filterNode.click();
  await page.locator('.react-flow__node[data-id="sink-1"]').click({ modifiers: ["Shift"] });
  await expect(page.locator(".react-flow__node.selected")).toHaveCount(2);
  await page.keyboard.press("ControlOrMeta+c");
  await page.keyboard.press("ControlOrMeta+v");
  await expect(nodes).toHaveCount(5);
  await expect(page.locator('.react-flow__node[data-id="filter-2"]')).toBeVisible();
  await expect(page.locator('.react-flow__node[data-id="sink-2"]')).toBeVisible();
  await expect(edges).toHaveCount(3);
  // The pasted copy is the selection: Delete removes it (nodes and edge) in one step, undo brings it back.
  await page.keyboard.press("Delete");
  await expect(nodes).toHaveCount(3);
  await expect(edges).toHaveCount(2);
  await page.keyboard.press("ControlOrMeta+z");
  await expect(nodes).toHaveCount(5);
  await page.keyboard.press("ControlOrMeta+z");
  await expect(nodes).toHaveCount(3);
  await expect(edges).toHaveCount(2);

  // Shift-drag on the pane draws a selection box; every node inside it is selected.
  const box = async (nodeId: string) => (await page.locator(`.react-flow__node[data-id="${nodeId}"]`).boundingBox())!;
  await page.locator(".react-flow__pane").click({ position: { x: 5, y: 5 } });
  await expect(page.locator(".react-flow__node.selected")).toHaveCount(0);
  const around = await Promise.all(["source-1", "filter-1", "sink-1"].map(box));
  await page.keyboard.down("Shift");
  await page.mouse.move(Math.min(...around.map((b) => b.x)) - 10, Math.min(...around.map((b) => b.y)) - 10);
  await page.mouse.down();
  await page.mouse.move(Math.max(...around.map((b) => b.x + b.width)) + 10, Math.max(...around.map((b) => b.y + b.height)) + 10, { steps: 10 });
  await page.mouse.up();
  await page.keyboard.up("Shift");
  await expect(page.locator(".react-flow__node.selected")).toHaveCount(3);

  // Shortcuts stay out of text fields: Ctrl/Cmd+A in the predicate selects its text, not every node.
  await page.locator(".react-flow__pane").click({ position: { x: 5, y: 5 } });
  await filterNode.click();
  await page.getByLabel("Predicate").click();
  await page.keyboard.press("ControlOrMeta+a");
  await expect(page.locator(".react-flow__node.selected")).toHaveCount(1);

  // The palette works from the keyboard: Tab to Projection, Enter adds it (and undo takes it away).
  await palette.getByRole("button", { name: /^Filter/ }).focus();
  await page.keyboard.press("Tab");
  await expect(palette.getByRole("button", { name: /^Projection/ })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(nodes).toHaveCount(4);
  await page.keyboard.press("ControlOrMeta+z");
  await expect(nodes).toHaveCount(3);

  // Auto-layout puts the chain on one row, left to right; it is one undo step.
  const rowSpread = async () => {
    const ys = await Promise.all(["source-1", "filter-1", "sink-1"].map(async (n) => { const b = await box(n); return b.y + b.height / 2; }));
    return Math.round(Math.max(...ys) - Math.min(...ys));
  };
  expect(await rowSpread()).toBeGreaterThan(20);
  await page.getByRole("button", { name: "Auto-layout" }).click();
  await expect.poll(rowSpread).toBeLessThanOrEqual(2);
  expect((await box("source-1")).x).toBeLessThan((await box("filter-1")).x);
  expect((await box("filter-1")).x).toBeLessThan((await box("sink-1")).x);
  await page.keyboard.press("ControlOrMeta+z");
  await expect.poll(rowSpread).toBeGreaterThan(20);

  // Preview: only matching rows come out of the Filter (select the Filter alone).
  await page.locator(".react-flow__pane").click({ position: { x: 5, y: 5 } });
  await filterNode.click();
  await page.getByRole("button", { name: "Preview", exact: true }).click();
  await expect(page.getByTestId("preview-status")).toContainText("sampled 3");
  await expect(page.getByTestId("preview-table")).toContainText("25");
  await expect(page.getByTestId("preview-table")).not.toContainText("u0");
  await page.screenshot(shot("21-canvas-preview"));

  await page.getByRole("button", { name: "Save version" }).click();
  await page.getByLabel(/What changed/).fill("first version");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status")).toContainText("Saved version 1");
  await page.getByRole("button", { name: "Deploy" }).click();
  await expect(page.getByRole("status")).toContainText("Deploying version 1");

  // The deployed pipeline writes the matching records to the sink stream.
  await expect
    .poll(async () => (await (await page.request.get(`/api/v1/teams/${team}/streams/dwd.big-${id}/records?limit=10`)).json()).records.length, { timeout: 30_000 })
    .toBe(2);
  await page.goto(`/t/${team}/streams/dwd.big-${id}`);
  await expect(page.getByTestId("records-table")).toContainText('"amount":25');
  await page.screenshot(shot("22-sink-records"));
});

test("versions: live node status while deployed, guarded navigation, save v2 with a changed Filter, diff v1 → v2, restore v1", async ({ page }) => {
  const id = Math.random().toString(36).slice(2, 7);
  const team = `versions-${id}`;
  await signUpWithTeam(page, { name: "Vera", email: `vera-${id}@example.test`, team });

  // v1 (Filter amount > 10.0) saved and deployed through the API, as automation would.
  const [src, sink] = [`ods.orders-${id}`, `dwd.orders-${id}`];
  const schema = [{ name: "user_id", type: "string" }, { name: "amount", type: "float" }];
  for (const name of [src, sink]) expect((await page.request.post(`/api/v1/teams/${team}/streams`, { data: { name, layer: "ODS", partitions: 1, schema } })).status()).toBe(201);
  expect((await page.request.post(`/api/v1/teams/${team}/pipelines`, { data: { name: "orders" } })).status()).toBe(201);
  const v1 = {
    version: 1,
    nodes: [
      { id: "source-1", type: "source", config: { stream: src }, position: { x: 0, y: 0 } },
      { id: "filter-1", type: "filter", config: { predicate: "amount > 10.0" }, position: { x: 260, y: 0 } },
      { id: "sink-1", type: "sink", config: { stream: sink }, position: { x: 520, y: 0 } },
    ],
    edges: [{ source: "source-1", target: "filter-1" }, { source: "filter-1", target: "sink-1" }],
  };
  expect((await page.request.post(`/api/v1/teams/${team}/pipelines/orders/versions`, { data: { pipeline: v1, message: "orders above 10" } })).status()).toBe(201);
  expect((await page.request.post(`/api/v1/teams/${team}/pipelines/orders/deploy`, { data: {} })).status()).toBe(200);

  await page.goto(`/t/${team}/pipelines/orders`);
  // The status poll puts each node's live state on the canvas.
  await expect(page.getByTestId("deployment-summary")).toContainText("running", { timeout: 30_000 });
  await expect(page.locator('.react-flow__node[data-id="filter-1"]').getByTestId("node-live")).toContainText("running", { timeout: 15_000 });
  await page.getByTestId("deployment-summary").click();
  await expect(page.getByTestId("deployment-state")).toHaveText("running / running");
  await expect(page.getByRole("table", { name: "Tasks" })).toContainText("#0");
  await page.screenshot(shot("23-deployment-panel"));
  await page.getByTestId("deployment-summary").click();

  // Change the Filter: leaving through the sidebar now asks first.
  const filterNode = page.locator('.react-flow__node[data-id="filter-1"]');
  await filterNode.click();
  await page.getByLabel("Predicate").fill("amount > 20.0");
  await expect(page.getByText(/^v\d+ · unsaved changes$/)).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Streams" }).click();
  const leave = page.getByRole("dialog", { name: "Leave without saving?" });
  await expect(leave).toBeVisible();
  await leave.getByRole("button", { name: "Stay on the canvas" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${team}/pipelines/orders$`));

  // Save v2 with a message from the in-page dialog.
  await page.getByRole("button", { name: "Save version" }).click();
  await page.getByLabel(/What changed/).fill("orders above 20");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("status")).toContainText("Saved version 2");

  // Compare v1 → v2: the Filter is highlighted as changed, its predicate listed before → after.
  await page.getByRole("button", { name: "Versions" }).click();
  const versions = page.getByRole("region", { name: "Versions" });
  await expect(versions.getByTestId("version-2")).toContainText("orders above 20");
  await expect(versions.getByTestId("version-1")).toContainText("orders above 10");
  await expect(versions.getByTestId("version-1")).toContainText("Vera");
  await versions.getByLabel("Compare v1").check();
  await versions.getByLabel("Compare v2").check();
  await versions.getByRole("button", { name: "Compare v1 → v2" }).click();
  const diffCanvas = page.getByTestId("diff-canvas");
  await expect(diffCanvas.locator('.react-flow__node[data-id="filter-1"] [data-diff="changed"]')).toBeVisible();
  await expect(diffCanvas.locator("[data-diff]")).toHaveCount(1);
  const diffList = page.getByRole("region", { name: "Version diff" });
  await expect(diffList.getByTestId("diff-summary")).toHaveText("1 node changed");
  await expect(diffList.getByTestId("diff-changed-filter-1")).toContainText('"amount > 10.0"→"amount > 20.0"');
  await page.screenshot(shot("24-version-diff"));
  await diffList.getByRole("button", { name: "Exit diff" }).click();
  await expect(diffCanvas).toHaveCount(0);

  // Restore v1: the canvas has it as unsaved changes.
  await versions.getByRole("button", { name: "Restore v1" }).click();
  await expect(page.getByRole("status")).toContainText("Restored v1");
  await expect(page.getByText(/^v\d+ · unsaved changes$/)).toBeVisible();
  await expect(filterNode).toContainText("amount > 10.0");

  // The pipelines list: state and throughput at a glance, duplicate, search, delete (refused while running).
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Pipelines" }).click();
  await page.getByRole("dialog", { name: "Leave without saving?" }).getByRole("button", { name: "Discard changes and leave" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${team}/pipelines$`));
  const row = page.getByTestId("pipeline-row-orders");
  await expect(row).toContainText("running");
  await expect(row).toContainText("v1 · 1 task(s) · at-least-once");
  await expect(row).toContainText("/s");
  await expect(row.getByRole("button", { name: "Delete orders" })).toBeDisabled();
  await row.getByRole("button", { name: "Duplicate orders" }).click();
  await page.getByLabel("Name of the copy").fill("orders-copy");
  await page.getByRole("button", { name: "Duplicate", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${team}/pipelines/orders-copy$`));
  await expect(page.locator('.react-flow__node[data-id="filter-1"]')).toContainText("amount > 20.0");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Pipelines" }).click();
  await expect(page.getByTestId(/^pipeline-row-/)).toHaveCount(2);
  await page.screenshot(shot("25-pipelines-list"));
  await page.getByLabel("Search pipelines").fill("copy");
  await expect(page.getByTestId(/^pipeline-row-/)).toHaveCount(1);
  await page.getByRole("button", { name: "Delete orders-copy" }).click();
  await page.getByRole("dialog", { name: "Delete orders-copy?" }).getByRole("button", { name: "Delete pipeline" }).click();
  await expect(page.getByTestId("pipeline-row-orders-copy")).toHaveCount(0);
  await page.getByLabel("Search pipelines").fill("");
  await expect(page.getByTestId(/^pipeline-row-/)).toHaveCount(1);
});
