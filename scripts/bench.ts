/**
 * npm run bench -- <suite>   (suites: broker, core, runtime, watermarks, alerts, monitor; none = all available)
 * Each suite is a standalone script that measures against a baseline in the
 * same run and prints a markdown table; docs/benchmarks.md records the figures.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const suites: Record<string, string> = {
  broker: "broker/bench/main.ts",
  core: "lib/bench/core-bench.ts",
  runtime: "scripts/bench/runtime.ts",
  watermarks: "scripts/bench/window-watermarks.ts",
  alerts: "scripts/bench/alerts.ts",
  monitor: "scripts/bench/monitor.ts",
};

const requested = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = requested.length ? requested : Object.keys(suites).filter((n) => existsSync(join(root, suites[n])));
let failed = false;
for (const name of names) {
  const script = suites[name];
  if (!script) {
    console.error(`Unknown benchmark "${name}". Available: ${Object.keys(suites).join(", ")}`);
    process.exit(2);
  }
  if (!existsSync(join(root, script))) {
    console.error(`Benchmark "${name}" is not available in this version (${script} missing).`);
    failed = true;
    continue;
  }
  console.log(`\n## ${name}  (${new Date().toISOString()}, ${process.version})\n`);
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, script), ...process.argv.slice(2).filter((a) => a.startsWith("-"))], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
