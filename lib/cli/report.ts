import { CommanderError } from "commander";
import { ZodError } from "zod";
import { ConfigError } from "@/lib/env/parse";
import { AppError } from "@/lib/errors";
import { explainKafkaConnectionError } from "@/lib/kafka/security";
import type { CliIO } from "./context";

/** Thrown by a command that has already printed its own report: only the exit code is left to set. */
export class Reported extends Error {
  constructor(readonly exitCode = 1) {
    super("reported");
  }
}

export interface ReportContext {
  /** The data directory the CLI looked in for `sluice.env`, and whether it found it. */
  dataDir?: string;
  localEnvFound?: boolean;
}

/** Prints what went wrong for the user and returns the exit code (0 ok, 1 error, 2 usage). */
export function reportError(e: unknown, io: CliIO, ctx: ReportContext = {}): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
  if (e instanceof Reported) return e.exitCode;
  if (e instanceof AppError) {
    io.err(`error: ${e.message}`);
  } else if (e instanceof ZodError) {
    io.err(`error: ${e.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ")}`);
  } else if (e instanceof ConfigError) {
    if (ctx.dataDir && !ctx.localEnvFound) {
      // The usual cause: Sluice is not running from this checkout (or at all).
      io.err(`error: cannot reach Sluice: there is no ${ctx.dataDir}/sluice.env (\`npm start\` writes it while Sluice runs) and ${e.message.replace(/:.*$/s, "")}.`);
      io.err("Start Sluice with `npm start` in its directory, or set SLUICE_DATA_DIR to its data directory, or DATABASE_URL, REDIS_URL and KAFKA_BROKERS to its services.");
    } else io.err(`error: ${e.message}`);
  } else {
    // A Kafka connection failure (wrong credentials, untrusted certificate) names the KAFKA_* setting to fix.
    io.err(`error: ${explainKafkaConnectionError(e)?.message ?? (e instanceof Error ? e.message : String(e))}`);
  }
  return 1;
}
