import { CommanderError } from "commander";
import { parse, printParseErrorCode, type ParseError } from "jsonc-parser";
import { ZodError } from "zod";
import { ConfigError } from "@/lib/env/parse";
import { AppError } from "@/lib/errors";
import { explainKafkaConnectionError } from "@/lib/kafka/security";
import type { Diagnostic } from "@/lib/pipeline";
import type { CliIO } from "./context";
import { formatProblems, pipelineProblems, type Problem } from "./diagnostics";

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

export function printProblems(io: CliIO, problems: readonly Problem[]): void {
  for (const line of formatProblems(problems)) io.err(line);
}

const isDiagnostic = (d: unknown): d is Diagnostic => d !== null && typeof d === "object" && "severity" in d && "code" in d && "message" in d;
const isFieldProblem = (d: unknown): d is { path: unknown[]; message: string } => d !== null && typeof d === "object" && Array.isArray((d as { path?: unknown }).path) && typeof (d as { message?: unknown }).message === "string";

/**
 * Runs `run`; when it fails with diagnostics (an AppError whose details are
 * the validator's or SQL's diagnostics), prints each as a compiler does —
 * placed by `toProblems`, which knows the source — then the error itself.
 */
export async function withProblems<T>(io: CliIO, toProblems: (details: unknown[]) => Problem[] | Promise<Problem[]>, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof AppError && Array.isArray(e.details) && e.details.length && e.details.every(isDiagnostic)) {
      printProblems(io, await toProblems(e.details));
      io.err(`error: ${e.message}`);
      throw new Reported(1);
    }
    throw e;
  }
}

/** Parses a JSON file; a syntax error prints at its line and column with the line and a caret, and ends the command. */
export function parseJsonFile(io: CliIO, file: string, text: string): unknown {
  const errors: ParseError[] = [];
  const value = parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (!errors.length) return value;
  const lines = text.split("\n");
  const starts: number[] = [];
  let at = 0;
  for (const l of lines) {
    starts.push(at);
    at += l.length + 1;
  }
  // The first syntax error only: the ones after it are usually its echoes.
  printProblems(io, errors.slice(0, 1).map((e) => {
    let line = starts.length - 1;
    while (line > 0 && starts[line] > e.offset) line--;
    const column = e.offset - starts[line] + 1;
    // printParseErrorCode names the problem in CamelCase (PropertyNameExpected): say it in words.
    const what = printParseErrorCode(e.error).replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
    return { severity: "error", message: `not valid JSON: ${what}`, at: { file, line: line + 1, column }, excerpt: { text: lines[line].replace(/\r$/, ""), start: column - 1, end: column - 1 + Math.max(1, e.length), lineNo: line + 1 } } satisfies Problem;
  }));
  io.err(`error: ${file} is not valid JSON; nothing was saved.`);
  throw new Reported(1);
}

/** Prints what went wrong for the user and returns the exit code (0 ok, 1 error, 2 usage). */
export function reportError(e: unknown, io: CliIO, ctx: ReportContext = {}): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
  if (e instanceof Reported) return e.exitCode;
  if (e instanceof AppError) {
    // Details a command did not place itself: diagnostics without their source, or field problems.
    const details = Array.isArray(e.details) ? e.details : [];
    if (details.length && details.every(isDiagnostic)) printProblems(io, pipelineProblems(details));
    io.err(`error: ${e.message}`);
    if (details.length && !details.every(isDiagnostic)) for (const d of details.filter(isFieldProblem)) io.err(`  ${d.path.join(".") || "input"}: ${d.message}`);
  } else if (e instanceof ZodError) {
    io.err("error: the input is invalid:");
    for (const i of e.issues) io.err(`  ${i.path.join(".") || "input"}: ${i.message}`);
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
