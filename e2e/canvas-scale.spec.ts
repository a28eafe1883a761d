import { expect, test } from "@playwright/test";
import { signUpWithTeam } from "./support";

/*
 * The editor with a 200-node pipeline: every node renders, a drag moves the
 * node (and is one undo step), and the frame rate during the drag is recorded
 * for people to read. Timing is never asserted: it depends on the machine.
 */
// Tracing snapshots the whole DOM at every mouse move, which would be most of what the frame rate measures.
test.use({ trace: "off" });

const NODES = 200;
const COLUMNS = 20;

test("a 200-node pipeline renders, drags and undoes smoothly enough to use", async ({ page }) => {
  test.setTimeout(120_000);
  const id = Math.random().toString(36).slice(2, 7);
  const team = `scale-${id}`;
  await signUpWithTeam(page, { name: "Sam", email: `sam-${id}@example.test`, team });

  const schema = [{ name: "user_id", type: "string" }, { name: "amount", type: "float" }];
  for (const [name, layer] of [[`ods.clicks-${id}`, "ODS"], [`dwd.kept-${id}`, "DWD"]]) {
    expect((await page.request.post(`/api/v1/teams/${team}/streams`, { data: { name, layer, partitions: 1, schema } })).status()).toBe(201);
  }

  // Source → 198 Filters in a chain → Sink, laid out on a grid, saved as version 1 through the API.
  const ids = Array.from({ length: NODES }, (_, i) => (i === 0 ? "source-1" : i === NODES - 1 ? "sink-1" : `filter-${i}`));
  const pipeline = {
    version: 1,
    nodes: ids.map((nodeId, i) => ({
      id: nodeId,
      type: i === 0 ? "source" : i === NODES - 1 ? "sink" : "filter",
      config: i === 0 ? { stream: `ods.clicks-${id}` } : i === NODES - 1 ? { stream: `dwd.kept-${id}` } : { predicate: `amount > ${i}.0` },
      position: { x: (i % COLUMNS) * 240, y: Math.floor(i / COLUMNS) * 140 },
    })),
    edges: ids.slice(1).map((target, i) => ({ source: ids[i], sourcePort: "out", target, targetPort: "in" })),
  };
  expect((await page.request.post(`/api/v1/teams/${team}/pipelines`, { data: { name: "wide" } })).status()).toBe(201);
  const saved = await page.request.post(`/api/v1/teams/${team}/pipelines/wide/versions`, { data: { pipeline, message: "200 nodes" } });
  expect(saved.status(), await saved.text()).toBe(201);

  await page.goto(`/t/${team}/pipelines/wide`);
  const nodes = page.locator(".react-flow__node");
  await expect(nodes).toHaveCount(NODES);
  await expect(page.locator(".react-flow__edge")).toHaveCount(NODES - 1);
  // Measured and shown (React Flow hides a node until it has its size), first and last alike.
  await expect(page.locator('.react-flow__node[data-id="source-1"]')).toBeVisible();
  await expect(page.locator('.react-flow__node[data-id="sink-1"]')).toBeVisible();
  await expect(page.locator('.react-flow__node[data-id="filter-110"]')).toContainText("amount > 110.0");
  await page.screenshot({ path: "e2e/artifacts/30-canvas-200-nodes.png", fullPage: true });

  const target = page.locator('.react-flow__node[data-id="filter-110"]');
  // Select first (the inspector opens), so the frames below are the drag's alone.
  await target.click();
  await expect(target).toHaveClass(/selected/);
  const before = (await target.boundingBox())!;
  const start = { x: before.x + before.width / 2, y: before.y + before.height / 2 };

  // Count animation frames while dragging the node across the canvas.
  await page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __measuring: boolean; __long: number[] };
    w.__frames = [];
    w.__long = [];
    w.__measuring = true;
    new PerformanceObserver((l) => { for (const e of l.getEntries()) w.__long.push(Math.round(e.duration)); }).observe({ type: "longtask" });
    const tick = (t: number) => {
      if (!w.__measuring) return;
      w.__frames.push(t);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  for (let i = 1; i <= 60; i++) await page.mouse.move(start.x + i * 2, start.y + i * 1.5);
  await page.mouse.up();
  const { frames, long } = await page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __measuring: boolean; __long: number[] };
    w.__measuring = false;
    return { frames: w.__frames, long: w.__long };
  });
  const span = frames[frames.length - 1] - frames[0];
  const worst = Math.max(...frames.slice(1).map((t, i) => t - frames[i]));
  console.log(`canvas-scale: ${frames.length} frames in ${Math.round(span)} ms while dragging 1 of ${NODES} nodes ≈ ${((frames.length - 1) * 1000 / span).toFixed(1)} fps; longest frame ${Math.round(worst)} ms; ${long.length} long task(s) ≥50 ms${long.length ? ` (${long.join(", ")} ms)` : ""}`);

  const after = (await target.boundingBox())!;
  expect(after.x - before.x).toBeGreaterThan(100);
  expect(after.y - before.y).toBeGreaterThan(70);
  await expect(page.getByText("unsaved changes")).toBeVisible();

  // The whole drag is one undo step back to where the node was.
  await page.keyboard.press("ControlOrMeta+z");
  await expect.poll(async () => Math.round((await target.boundingBox())!.x)).toBe(Math.round(before.x));
  expect(Math.round((await target.boundingBox())!.y)).toBe(Math.round(before.y));
  await expect(page.getByText("unsaved changes")).toHaveCount(0);
});
