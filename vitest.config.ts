import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));

// Two projects: pure unit tests (`*.test.ts`) need nothing running; integration
// tests (`*.int.test.ts`) share one hermetic set of services (Postgres, Redis,
// ClickHouse, the embedded broker) started on free ports by the global setup.
export default defineConfig({
  resolve: { alias: { "@": root } },
  test: {
    silent: "passed-only",
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["{lib,broker,scripts,workers,components,app}/**/*.test.{ts,tsx}"],
          exclude: ["**/*.int.test.ts", "**/node_modules/**"],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: "int",
          include: ["{lib,broker,scripts,workers,app}/**/*.int.test.ts"],
          exclude: ["**/node_modules/**"],
          globalSetup: ["scripts/testing/global-setup.ts"],
          // After each file: stop what it left running (scripts/testing/int-file-cleanup.ts).
          setupFiles: ["scripts/testing/int-file-cleanup.ts"],
          // One file at a time: the files share one broker, one task queue and
          // two cores, and the kill -9 failover tests must not compete with other
          // files' worker processes for CPU (a starved worker loses its task lock).
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
