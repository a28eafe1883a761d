/**
 * `npm run chaos -- [--minutes M] [--seed S] [--workers N] [--keep]`: the
 * reliability suite (docs/reliability.md). Starts a throwaway stack, runs
 * the chaos workload under seeded faults, checks every sink against the
 * in-process reference, prints the figures and exits non-zero when anything
 * was lost, duplicated under exactly_once, or did not recover.
 */
import { Command, InvalidArgumentError } from "commander";
import { fileURLToPath } from "node:url";

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}`);
  return n;
};

const program = new Command("chaos")
  .description("Sluice reliability suite: a chaos and soak run with faults, checked against an in-process reference")
  .option("--minutes <m>", "how long the producer writes (faults are spread over it)", int("--minutes", 1), 15)
  .option("--seed <s>", "seed of the workload and the fault schedule (default: from the clock, printed)", int("--seed", 0))
  .option("--workers <n>", "worker processes", int("--workers", 2), 3)
  .option("--keep", "keep the data and logs directory even when the run passes", false)
  .parse();
const o = program.opts<{ minutes: number; seed?: number; workers: number; keep: boolean }>();

// The harness's own logs stay quiet (workers and services log to files in the run's directory); set before lib loads.
process.env.LOG_LEVEL ??= "error";
const { runChaos } = await import("./run");
const { status, summary } = await runChaos({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  minutes: o.minutes,
  seed: o.seed ?? Date.now() % 1_000_000,
  workers: o.workers,
  keep: o.keep,
});
// The closing line is the last thing printed: `lost N, exactly_once duplicates N, faults recovered K/K`.
if (summary) process.stdout.write(summary + "\n");
process.exit(status);
