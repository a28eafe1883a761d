import { expect, test, type Page } from "@playwright/test";

const shot = (name: string) => ({ path: `e2e/artifacts/${name}.png`, fullPage: true });

async function connect(page: Page, from: string, to: string) {
  const src = page.locator(`.react-flow__node[data-id="${from}"] .react-flow__handle.source`).first();
  const dst = page.locator(`.react-flow__node[data-id="${to}"] .react-flow__handle.target`).first();
  const a = (await src.boundingBox())!;
  const b = (await dst.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
}

test("build Source → Filter → Sink on the canvas, fix a validation error, preview, save and deploy", async ({ page }) => {
  const id = Math.random().toString(36).slice(2, 7);
  const team = `canvas-${id}`;
  await page.goto("/sign-up");
  await page.getByLabel("Your name").fill("Cara");
  await page.getByLabel("Email").fill(`cara-${id}@example.test`);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByLabel("Team name").fill(team);
  await page.getByRole("button", { name: "Create team" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${team}/pipelines$`));

  const schema = [{ name: "user_id", type: "string" }, { name: "amount", type: "float" }];
  for (const [name, layer] of [[`ods.clicks-${id}`, "ODS"], [`dwd.big-${id}`, "DWD"]]) {
    expect((await page.request.post(`/api/v1/teams/${team}/streams`, { data: { name, layer, partitions: 1, schema } })).status()).toBe(201);
  }
  const records = [5, 15, 25].map((amount, i) => ({ value: { user_id: `u${i}`, amount } }));
  expect((await page.request.post(`/api/v1/teams/${team}/streams/ods.clicks-${id}/records`, { data: { records } })).status()).toBe(200);

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

  // Preview: only matching rows come out of the Filter.
  await page.getByRole("button", { name: "Preview", exact: true }).click();
  await expect(page.getByTestId("preview-status")).toContainText("sampled 3");
  await expect(page.getByTestId("preview-table")).toContainText("25");
  await expect(page.getByTestId("preview-table")).not.toContainText("u0");
  await page.screenshot(shot("21-canvas-preview"));

  page.once("dialog", (d) => void d.accept("first version"));
  await page.getByRole("button", { name: "Save version" }).click();
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
