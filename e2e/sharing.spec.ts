import { expect, test, type Browser, type Page } from "@playwright/test";

const shot = (name: string) => ({ path: `e2e/artifacts/${name}.png`, fullPage: true });

async function newUserWithTeam(browser: Browser, who: string, team: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto("/sign-up");
  await page.getByLabel("Your name").fill(who);
  await page.getByLabel("Email").fill(`${who.toLowerCase().replace(/\W/g, "")}-${team}@example.test`);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/onboarding$/);
  await page.getByLabel("Team name").fill(team);
  await page.getByRole("button", { name: "Create team" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${team}/pipelines$`));
  return page;
}

test("team A publishes a stream, team B finds it, requests access, A approves, B reads it", async ({ browser }) => {
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
  await a.screenshot(shot("11-stream-live"));

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
  await b.screenshot(shot("13-granted-read"));
});
