import { expect, test, type Browser, type Page } from "@playwright/test";
import { connect, shot, signUpWithTeam } from "./support";



async function newUserWithTeam(browser: Browser, who: string, team: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signUpWithTeam(page, { name: who, email: `${who.toLowerCase().replace(/\W/g, "")}-${team}@example.test`, team });
  return page;
}

test("team A publishes a stream, team B finds it, requests access, A approves, B reads it and builds a pipeline on it", async ({ browser }) => {
  test.setTimeout(180_000);
  const id = Math.random().toString(36).slice(2, 7);
  const teamA = `ads-${id}`;
  const teamB = `recs-${id}`;
  const stream = `dwd.ads.clicks-${id}`;

  // A creates the stream in the UI.
  const a = await newUserWithTeam(browser, "Alice", teamA);
  await a.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Streams" }).click();
  await a.getByRole("button", { name: "New stream" }).click();
  const dialog = a.getByRole("dialog", { name: "New stream" });
  await dialog.getByLabel("Name", { exact: true }).fill(stream);
  await dialog.getByLabel("Layer").selectOption("DWD");
  await dialog.getByLabel("Field 1 name").fill("user_id");
  await dialog.getByRole("button", { name: "+ Add field" }).click();
  await dialog.getByLabel("Field 2 name").fill("amount");
  await dialog.getByLabel("Field 2 type").selectOption("float");
  await a.screenshot(shot("10-new-stream"));
  await dialog.getByRole("button", { name: "Create stream" }).click();
  await expect(a.getByRole("heading", { name: stream })).toBeVisible();
  await expect(a.getByTestId("schema-table")).toContainText("amount");

  // Records produced through the API show up in the live table.
  const produced = await a.request.post(`/api/v1/teams/${teamA}/streams/${stream}/records`, {
    data: { records: [{ key: "u1", value: { user_id: "u1", amount: 12.5 } }, { key: "u2", value: { user_id: "u2", amount: 3 } }] },
  });
  expect(produced.status()).toBe(200);
  await expect(a.getByTestId("records-table")).toContainText('"user_id":"u2"');
  // Live stats come from the broker (offsets, newest records), refreshed every few seconds.
  await expect(a.getByTestId("stat-records")).toHaveText("2");
  await expect(a.getByTestId("stat-last")).not.toHaveText("never");
  await a.screenshot(shot("11-stream-live"));

  // A documents the stream in markdown, checks the preview, saves.
  await a.getByRole("button", { name: "Add description" }).click();
  await a.getByLabel("Description (markdown)").fill("One record per **ad click**.\n\n| field | meaning |\n|---|---|\n| amount | price in EUR |\n\nQuestions: [ads wiki](https://example.com/ads) <script>alert(1)</script>");
  await a.getByRole("tab", { name: "Preview" }).click();
  await expect(a.getByTestId("description-preview").getByRole("table")).toContainText("price in EUR");
  await a.screenshot(shot("11b-description-preview"));
  await a.getByRole("button", { name: "Save description" }).click();
  const wiki = a.getByTestId("markdown").getByRole("link", { name: "ads wiki" });
  await expect(wiki).toHaveAttribute("rel", "noopener noreferrer nofollow");
  // Raw HTML is dropped: the tags are gone (the text between them stays, as text).
  await expect(a.getByTestId("markdown").locator("script")).toHaveCount(0);

  // The catalog shows each readable stream's activity at a glance.
  await a.goto(`/t/${teamA}/streams`);
  await expect(a.getByRole("row", { name: new RegExp(stream) }).getByTestId("stream-stats-cell")).toContainText(/\/(s|min) · last /);
  await a.screenshot(shot("11c-catalog-activity"));

  // B sees it listed (not readable yet) and asks for access.
  const b = await newUserWithTeam(browser, "Bob", teamB);
  await b.goto(`/t/${teamB}/streams`);
  await expect(b.getByRole("link", { name: stream })).toBeVisible();
  await b.getByRole("link", { name: stream }).click();
  await expect(b.getByText("Visible once your team can read this stream.")).toBeVisible();
  expect((await b.request.get(`/api/v1/teams/${teamB}/streams/${stream}/records`)).status()).toBe(403);
  await b.getByLabel("Why does your team need this stream?").fill("Recommendations want clicks in real time");
  await b.getByRole("button", { name: `Request access from ${teamA}` }).click();
  await expect(b.getByText(`Access requested — waiting for team ${teamA}.`)).toBeVisible();

  // A sees the pending badge and approves.
  await a.goto(`/t/${teamA}/streams/${stream}`);
  await expect(a.getByTitle("1 access request(s) waiting for your team")).toBeVisible();
  await expect(a.getByText("Recommendations want clicks in real time")).toBeVisible();
  await a.screenshot(shot("12-access-request"));
  await a.getByRole("button", { name: "Approve" }).click();
  await expect(a.getByRole("button", { name: "Revoke" })).toBeVisible();

  // B now reads the records.
  await b.reload();
  await expect(b.getByTestId("records-table")).toContainText('"user_id":"u1"');
  await expect(b.getByTestId("markdown").getByRole("strong")).toHaveText("ad click");
  await expect(b.getByTestId("stat-records")).toHaveText("2");
  await b.screenshot(shot("13-granted-read"));

  // B builds a pipeline on the shared stream in the canvas editor and previews it.
  const own = `dwd.recs.big-clicks-${id}`;
  expect((await b.request.post(`/api/v1/teams/${teamB}/streams`, { data: { name: own, layer: "DWD", partitions: 1, schema: [{ name: "user_id", type: "string" }, { name: "amount", type: "float" }] } })).status()).toBe(201);
  await b.goto(`/t/${teamB}/pipelines`);
  await b.getByLabel("New pipeline name").fill("big-clicks");
  await b.getByRole("button", { name: "New pipeline" }).click();
  await expect(b).toHaveURL(new RegExp(`/t/${teamB}/pipelines/big-clicks$`));
  const palette = b.getByRole("complementary", { name: "Palette" });
  await palette.getByRole("button", { name: /^Source/ }).click();
  await b.getByLabel("Stream").selectOption(stream);
  await b.screenshot(shot("14-canvas-source"));
  await palette.getByRole("button", { name: /^Filter/ }).click();
  await b.getByLabel("Predicate").fill("amount > 5.0");
  await b.getByRole("button", { name: "Fit View" }).click();
  await connect(b, "source-1", "filter-1");
  const filterNode = b.locator('.react-flow__node[data-id="filter-1"]');
  await expect(b.locator(".react-flow__edge")).toHaveCount(1);
  await b.screenshot(shot("15-canvas-filter"));
  await filterNode.click();
  await b.getByRole("button", { name: "Preview", exact: true }).click();
  await expect(b.getByTestId("preview-status")).toContainText("sampled 2");
  // Only u1 (12.5) passes "amount > 5.0"; u2 (3) is filtered out.
  await expect(b.getByTestId("preview-table")).toContainText("u1");
  await expect(b.getByTestId("preview-table")).not.toContainText("u2");
  await b.screenshot(shot("16-canvas-preview"));

  // B finishes the pipeline into a stream of its own and saves it: now it reads A's stream.
  await palette.getByRole("button", { name: /^Sink/ }).click();
  await b.getByLabel("Stream").selectOption(own);
  await b.getByRole("button", { name: "Fit View" }).click();
  await connect(b, "filter-1", "sink-1");
  await expect(b.locator(".react-flow__edge")).toHaveCount(2);
  await b.getByRole("button", { name: "Save version" }).click();
  const saveDialog = b.getByRole("dialog", { name: "Save version" });
  await saveDialog.getByLabel(/What changed/).fill("big clicks for recommendations");
  await saveDialog.getByRole("button", { name: "Save", exact: true }).click();
  await expect(b.getByRole("status")).toContainText("Saved version 1");

  // A sees B's pipeline in the stream's lineage (not linked: it is B's) and in the delete dialog's impact.
  await a.reload();
  const consumer = a.getByTestId(`lineage-node-pipeline:${teamB}/big-clicks`);
  await expect(consumer).toContainText(`team ${teamB}`);
  await expect(consumer.getByRole("link", { name: "big-clicks", exact: true })).toHaveCount(0);
  await a.getByRole("button", { name: "Delete stream" }).click();
  const confirm = a.getByRole("dialog", { name: `Delete ${stream}?` });
  await expect(confirm.getByTestId("delete-impact")).toContainText("1 pipeline in 1 team read this");
  await expect(confirm.getByTestId("delete-impact")).toContainText(`big-clicks in team ${teamB}`);
  await expect(confirm.getByRole("button", { name: "Delete anyway" })).toBeDisabled();
  await confirm.getByLabel("Type the stream name to confirm").fill(stream);
  await expect(confirm.getByRole("button", { name: "Delete anyway" })).toBeEnabled();
  await a.screenshot(shot("16b-delete-impact"));
  await confirm.getByRole("button", { name: "Cancel" }).click();

  // Lineage page: B sees A's stream with its owner team and layer, and its own pipeline, linked to the editor.
  await b.goto(`/t/${teamB}/lineage?stream=${encodeURIComponent(stream)}`);
  const root = b.getByTestId(`lineage-node-stream:${stream}`);
  await expect(root).toContainText(`team ${teamA}`);
  await expect(root).toContainText("DWD");
  await expect(b.getByTestId(`lineage-node-stream:${own}`)).toBeVisible();
  await b.screenshot(shot("17-lineage"));
  await b.getByLabel("Depth").selectOption("1");
  await expect(b.getByTestId("lineage-summary")).toContainText("within 1 hop(s)");
  await expect(b).toHaveURL(/depth=1/);
  await b.getByTestId(`lineage-node-pipeline:${teamB}/big-clicks`).getByRole("link", { name: "big-clicks", exact: true }).click();
  await expect(b).toHaveURL(new RegExp(`/t/${teamB}/pipelines/big-clicks$`));

  // A stream nobody reads deletes after typing its name; the dialog says no pipeline reads it.
  await b.goto(`/t/${teamB}/streams/${own}`);
  await b.getByRole("button", { name: "Delete stream" }).click();
  const del = b.getByRole("dialog", { name: `Delete ${own}?` });
  await expect(del.getByTestId("delete-impact")).toHaveText("No pipeline reads this stream.");
  await del.getByLabel("Type the stream name to confirm").fill(own);
  await del.getByRole("button", { name: "Delete stream" }).click();
  await expect(b).toHaveURL(new RegExp(`/t/${teamB}/streams$`));
  await expect(b.getByRole("link", { name: own })).toHaveCount(0);
  await expect(b.getByRole("link", { name: stream })).toBeVisible();
  await b.screenshot(shot("18-deleted"));
});
