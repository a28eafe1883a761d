/**
 * The `sluice` command line. It talks to the database directly with the same
 * domain functions as the REST API (so the same validation and audit apply).
 * Connection settings come from the environment, or from .data/sluice.env
 * that `npm start` writes. Run it with bin/sluice.mjs (the package's `bin`),
 * which works from any directory.
 *
 * One module per command group in ./commands, each exporting
 * `register(program, cli)`; add a group by adding it to `commandGroups`.
 */
import { Command } from "commander";
import { join } from "node:path";
import { loadLocalEnv } from "@/lib/env/local";
import * as alert from "./commands/alert";
import * as pipeline from "./commands/pipeline";
import * as stream from "./commands/stream";
import * as team from "./commands/team";
import * as token from "./commands/token";
import * as user from "./commands/user";
import { processIO, type Cli, type CliIO } from "./context";
import { reportError, type ReportContext } from "./report";

export type { CliIO } from "./context";

const commandGroups: { register: (program: Command, cli: Cli) => void }[] = [user, team, token, stream, pipeline, alert];

export function buildProgram(io: CliIO = processIO): Command {
  const program = new Command("sluice")
    .description("Sluice command line: users, teams, tokens, streams, pipelines and alerts")
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .showHelpAfterError()
    .addHelpText(
      "after",
      "\nConnection settings come from the environment, or from .data/sluice.env that `npm start` writes\n" +
        "(SLUICE_DATA_DIR points elsewhere). With SLUICE_TOKEN=slc_… set, team commands act as that API token;\n" +
        "otherwise as the team's owner. SLUICE_CLI_LOG_LEVEL=debug prints the CLI's log to stderr.",
    );
  for (const group of commandGroups) group.register(program, { io });
  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 1 error, 2 usage). */
export async function runCli(argv: string[], io: CliIO = processIO, ctx: ReportContext = {}): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    return reportError(e, io, ctx);
  }
}

/**
 * Closes the connections the command opened. Each client is a per-process
 * singleton on globalThis; a client that was never created is not imported
 * just to be closed (loading Prisma or BullMQ costs more than most commands).
 */
async function closeConnections(): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  await Promise.allSettled([
    g.sluicePrisma ? import("@/lib/db/prisma").then((m) => m.disconnectPrisma()) : undefined,
    g.sluiceKafka ? import("@/lib/kafka/shared").then((m) => m.closeKafka()) : undefined,
    g.sluiceTaskQueue ? import("@/lib/runtime/task-queue").then((m) => m.closeTaskQueue()) : undefined,
    g.sluiceRedis ? import("@/lib/redis/client").then((m) => m.closeRedis()) : undefined,
  ]);
}

if (process.argv[1] && /lib[\\/]cli[\\/]main\.ts$/.test(process.argv[1])) {
  const dataDir = process.env.SLUICE_DATA_DIR || join(process.cwd(), ".data");
  const localEnvFound = loadLocalEnv(dataDir);
  runCli(process.argv.slice(2), processIO, { dataDir, localEnvFound }).then(async (code) => {
    await closeConnections();
    process.exit(code);
  });
}
