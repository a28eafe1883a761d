import { expect, test } from "@playwright/test";

const shot = (name: string) => ({ path: `e2e/artifacts/${name}.png`, fullPage: true });

test("sign up, create a team, land on the empty Pipelines page, create an API token", async ({ page }) => {
  const id = Math.random().toString(36).slice(2, 8);
  const email = `e2e-${id}@example.test`;

  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByLabel("Your name").fill("Ada Lovelace");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.screenshot(shot("01-sign-up"));
  await page.getByRole("button", { name: "Create account" }).click();

  await expect(page).toHaveURL(/\/onboarding$/);
  await expect(page.getByRole("heading", { name: "Welcome, Ada Lovelace" })).toBeVisible();
  await page.getByLabel("Team name").fill(`Ads Analytics ${id}`);
  await page.screenshot(shot("02-onboarding"));
  await page.getByRole("button", { name: "Create team" }).click();

  await expect(page).toHaveURL(new RegExp(`/t/ads-analytics-${id}/pipelines$`));
  await expect(page.getByRole("heading", { name: "Pipelines", exact: true })).toBeVisible();
  await expect(page.getByText("No pipelines yet")).toBeVisible();
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const item of ["Pipelines", "Streams", "Functions", "Teams", "Settings"]) await expect(nav.getByRole("link", { name: item })).toBeVisible();
  await expect(page.getByLabel("Switch team")).toHaveValue(`ads-analytics-${id}`);
  await page.screenshot(shot("03-pipelines-empty"));

  await nav.getByRole("link", { name: "Streams" }).click();
  // Other teams' team-visible streams may be listed here (it is a shared catalog), so check the page, not emptiness.
  await expect(page.getByRole("heading", { name: "Streams", exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "New stream" })).toBeVisible();

  await nav.getByRole("link", { name: "Settings" }).click();
  await page.getByLabel("Token name").fill("ci");
  await page.getByRole("button", { name: "Create token" }).click();
  const token = page.getByTestId("new-token");
  await expect(token).toHaveText(/^slc_[A-Za-z0-9_-]{40,}$/);
  await expect(page.getByText("it will not be shown again")).toBeVisible();
  await page.screenshot(shot("04-token-created"));
  const secret = (await token.textContent())!;

  // The token works against the API, and the page no longer shows the secret after a reload.
  const res = await page.request.get("/api/v1/me", { headers: { authorization: `Bearer ${secret}` } });
  expect(res.status()).toBe(200);
  expect((await res.json()).teams[0].slug).toBe(`ads-analytics-${id}`);
  await page.reload();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  // Listed by name and prefix only.
  await expect(page.getByRole("listitem").filter({ hasText: `${secret.slice(0, 10)}…` })).toContainText("ci");
  await expect(page.getByText(secret)).toHaveCount(0);
});

test("a wrong password is refused with a message, and signed-out API calls get 401 JSON", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill("nobody@example.test");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: /password/i })).toContainText("Invalid email or password");
  const res = await page.request.get("/api/v1/teams");
  expect(res.status()).toBe(401);
  expect((await res.json()).error.code).toBe("unauthenticated");
});
