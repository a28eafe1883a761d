import { expect, test } from "@playwright/test";
import { signUpWithTeam } from "./support";

// This file's requests carry only what the browser itself sends (no Origin added by the test runner).
test.use({ extraHTTPHeaders: {} });

/*
 * CSRF in a real browser (issue 16, Medium 5): a page on another origin of the
 * same site (another port of the same host gets even SameSite=Lax cookies)
 * posts a form and a no-cors fetch to the API while the user is signed in.
 * Before the guard, the form minted an owner token in the user's name.
 */
test("a page on another origin cannot change anything with the signed-in user's cookie", async ({ page, baseURL }) => {
  const id = Math.random().toString(36).slice(2, 7);
  const team = `csrf-${id}`;
  await signUpWithTeam(page, { name: "Cyd", email: `cyd-${id}@example.test`, team });

  const app = new URL(baseURL!);
  const attacker = `${app.protocol}//${app.hostname}:${Number(app.port) + 1779}`;
  const target = `${baseURL}/api/v1/teams/${team}/tokens`;
  await page.route(`${attacker}/**`, (route) =>
    route.fulfill({
      contentType: "text/html",
      body: `<!doctype html><title>cute cats</title>
        <form id="f" method="post" enctype="text/plain" action="${target}"><input name='{"name":"csrf-form","role":"owner","x":"' value='"}'></form>
        <script>
          fetch(${JSON.stringify(target)}, { method: "POST", mode: "no-cors", credentials: "include", headers: { "content-type": "text/plain" }, body: JSON.stringify({ name: "csrf-fetch", role: "owner" }) })
            .finally(() => document.getElementById("f").submit());
        </script>`,
    }),
  );
  await page.goto(`${attacker}/cats`);
  // The form navigated to the API's answer: the session cookie went along, and the guard refused it.
  await expect(page).toHaveURL(target);
  await expect(page.locator("body")).toContainText("must send a JSON body with `Content-Type: application/json`");

  const res = await page.request.get(`/api/v1/teams/${team}/tokens`);
  expect(res.status()).toBe(200);
  const names = ((await res.json()).tokens as { name: string }[]).map((t) => t.name);
  expect(names).not.toContain("csrf-form");
  expect(names).not.toContain("csrf-fetch");

  // The app itself still works: creating a token from the settings page.
  await page.goto(`/t/${team}/settings`);
  await page.getByLabel("Token name").fill("from-the-ui");
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByTestId("new-token")).toContainText("slc_");
});
