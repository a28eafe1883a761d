import { defineConfig } from "@playwright/test";

const port = Number(process.env.E2E_PORT ?? 3200);
const external = process.env.E2E_BASE_URL;
const baseURL = external ?? `http://127.0.0.1:${port}`;

/**
 * End-to-end tests in Debian's Chromium (never a downloaded browser) against
 * the production build on a hermetic stack started by scripts/e2e-server.ts.
 * Set E2E_BASE_URL to run against a server that is already up.
 */
export default defineConfig({
  testDir: "e2e",
  outputDir: "e2e/artifacts/results",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: process.env.CI ? [["list"]] : [["list"]],
  use: {
    baseURL,
    // Tests set data up with page.request (cookies, no browser): it says where it comes from, as the
    // API's CSRF guard asks of clients that send no fetch metadata (docs/security.md). The browser's own
    // requests are judged by the Sec-Fetch-Site it sets, whatever this header says.
    extraHTTPHeaders: { origin: baseURL },
    viewport: { width: 1280, height: 800 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    },
  },
  webServer: external
    ? undefined
    : {
        command: "node --import tsx scripts/e2e-server.ts",
        url: `http://127.0.0.1:${port}/api/health`,
        timeout: 180_000,
        reuseExistingServer: false,
        stdout: "pipe",
        stderr: "pipe",
        env: { E2E_PORT: String(port) },
      },
});
