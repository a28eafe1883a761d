import { expect, type Locator, type Page } from "@playwright/test";

/** Full-page screenshot options for a step, saved as a test artifact. */
export const shot = (name: string) => ({ path: `e2e/artifacts/${name}.png`, fullPage: true });

/** Signs a new user up through the UI and creates their first team; ends on the team's pipelines page. */
export async function signUpWithTeam(page: Page, who: { name: string; email: string; team: string }) {
  await page.goto("/sign-up");
  await page.getByLabel("Your name").fill(who.name);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/onboarding$/);
  await page.getByLabel("Team name").fill(who.team);
  await page.getByRole("button", { name: "Create team" }).click();
  await expect(page).toHaveURL(new RegExp(`/t/${who.team}/pipelines$`));
}

/**
 * Where an element is once it has stopped moving: Fit View and zooming animate the viewport, and a drag
 * computed from a box read mid-animation misses the handle (a CI run's sharing spec drew no edge so).
 */
async function settledBox(locator: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  let last = await locator.boundingBox();
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const now = await locator.boundingBox();
    if (now && last && now.x === last.x && now.y === last.y && now.width === last.width) return now;
    last = now;
  }
  expect(last, "the element never stopped moving").not.toBeNull();
  return last!;
}

/** Drags from a node's output handle to another node's input handle, as a user wires the canvas. */
export async function connect(page: Page, from: string, to: string) {
  const src = page.locator(`.react-flow__node[data-id="${from}"] .react-flow__handle.source`).first();
  const dst = page.locator(`.react-flow__node[data-id="${to}"] .react-flow__handle.target`).first();
  const a = await settledBox(src);
  const b = await settledBox(dst);
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
}
