import { expect, test } from "@playwright/test";
import { shot, signUpWithTeam } from "./support";

test("pipelines as SQL: New from SQL with diagnostics at line and column, preview, and the SQL tab following a canvas edit", async ({ page }) => {
  const id = Math.random().toString(36).slice(2, 7);
  const team = `sql-${id}`;
  await signUpWithTeam(page, { name: "Sam", email: `sam-${id}@example.test`, team });

  const [src, out] = [`ods.clicks-${id}`, `dwd.big-${id}`];
  const schema = [{ name: "user_id", type: "string" }, { name: "amount", type: "float" }];
  for (const name of [src, out]) expect((await page.request.post(`/api/v1/teams/${team}/streams`, { data: { name, layer: name.startsWith("ods") ? "ODS" : "DWD", partitions: 1, schema } })).status()).toBe(201);
  const records = [5, 25, 40].map((amount, i) => ({ value: { user_id: `u${i}`, amount } }));
  expect((await page.request.post(`/api/v1/teams/${team}/streams/${src}/records`, { data: { records } })).status()).toBe(200);

  // New from SQL: a misspelt field is reported at its line and column, and nothing is created.
  await page.goto(`/t/${team}/pipelines`);
  await page.getByRole("button", { name: "New from SQL" }).click();
  const dialog = page.getByRole("dialog", { name: "New pipeline from SQL" });
  await dialog.getByLabel("Pipeline name").fill("big-clicks");
  const editor = dialog.getByLabel("Pipeline SQL");
  await editor.fill(`INSERT INTO \`${out}\`\nSELECT user_id, amount\nFROM \`${src}\`\nWHERE amont > 10.0;`);
  await dialog.getByRole("button", { name: "Create pipeline" }).click();
  const problems = dialog.getByRole("list", { name: "SQL problems" });
  await expect(problems).toContainText('line 4, column 7: unknown field "amont"');
  await expect(problems).toContainText('did you mean "amount"');
  await expect(dialog.locator(".cm-lintRange-error")).toHaveText("amont");
  await page.screenshot(shot("60-new-from-sql-diagnostics"));

  await editor.fill(`INSERT INTO \`${out}\`\nSELECT user_id, amount\nFROM \`${src}\`\nWHERE amount > 10.0;`);
  await dialog.getByRole("button", { name: "Create pipeline" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${team}/pipelines/big-clicks$`));

  // The graph was built and laid out: Source → Filter → Projection → Sink, left to right.
  const node = (nid: string) => page.locator(`.react-flow__node[data-id="${nid}"]`);
  await expect(page.locator(".react-flow__node")).toHaveCount(4);
  const xs = await Promise.all([`clicks-${id}`, "filter", "projection", `big-${id}`].map(async (nid) => (await node(nid).boundingBox())!.x));
  expect([...xs].sort((a, b) => a - b)).toEqual(xs);

  // Preview runs the SQL-built graph on the stream's records: 2 of 3 pass the filter.
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByTestId("preview-status")).toHaveText("sampled 3 · produced 2 · errors 0");

  // The SQL tab shows the pipeline; edit the Filter in the inspector and the SQL follows.
  await node("filter").click();
  await page.getByRole("tab", { name: "SQL" }).click();
  const sql = page.getByTestId("sql-view");
  await expect(sql).toContainText(`INSERT INTO \`${out}\``);
  await expect(sql).toContainText("WHERE amount > 10.0;");
  const predicate = page.getByLabel("Predicate");
  await predicate.fill("amount > 30.0");
  await expect(sql).toContainText("WHERE amount > 30.0;");
  await page.screenshot(shot("61-sql-tab"));
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.getByRole("button", { name: "Copy" }).click();
  await expect(page.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toContain("WHERE amount > 30.0;");

  // Back on the canvas, the edit is there (one graph, two views).
  await page.getByRole("tab", { name: "Canvas" }).click();
  await expect(node("filter")).toContainText("amount > 30.0");
});
