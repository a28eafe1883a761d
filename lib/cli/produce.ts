import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, printParseErrorCode, type ParseError } from "jsonc-parser";
import { firstInvalidUtf8 } from "@/lib/api/body";
import type { Principal } from "@/lib/auth/principal";
import type { EncodedRecord, ProduceTarget } from "@/lib/warehouse/produce";
import { stdinBytes, type CliIO } from "./context";
import { formatProblems, type Problem } from "./diagnostics";
import { Reported } from "./report";

/**
 * `sluice stream produce`: JSON lines into a stream, all or nothing.
 *
 * 1. Every line is checked before anything is written (UTF-8, JSON, the
 *    stream's schema, the topic's record size, nesting), streaming: the input
 *    is never held in memory. Standard input is spooled to a private temp file
 *    as it is read, so it can be read again for writing. Any problem: each is
 *    printed (line, field, message), nothing is written, exit 1.
 * 2. The records are written in one Kafka transaction per
 *    `maxTransactionBytes` of encoded records (64 MiB by default, so usually
 *    one): readers of committed data see all lines or none. An input larger
 *    than that is written in consecutive transactions; if one fails, the CLI
 *    says exactly which lines are written ("lines 1–N were written; lines
 *    N+1–M were not"), and exits 1.
 */
export const DEFAULT_TRANSACTION_BYTES = 64 * 1024 * 1024;
/** Problems printed before "… and N more". */
const PRINTED_PROBLEMS = 50;

export interface ProduceOptions {
  team: string;
  name: string;
  file?: string;
  /** Display name of the input in messages: the path given, or "stdin". */
  inputName: string;
  key?: string;
  maxTransactionBytes: number;
}

interface Line {
  no: number;
  bytes: Buffer;
}

/** Splits a byte stream into lines (LF, with an optional CR before it), numbered from 1. */
export async function* splitLines(source: AsyncIterable<Uint8Array>): AsyncGenerator<Line> {
  let rest: Buffer = Buffer.alloc(0);
  let no = 0;
  for await (const chunk of source) {
    let buf = rest.length ? Buffer.concat([rest, chunk]) : Buffer.from(chunk);
    let nl: number;
    while ((nl = buf.indexOf(0x0a)) >= 0) {
      const end = nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl;
      yield { no: ++no, bytes: buf.subarray(0, end) };
      buf = buf.subarray(nl + 1);
    }
    rest = Buffer.from(buf);
  }
  if (rest.length) yield { no: ++no, bytes: rest[rest.length - 1] === 0x0d ? rest.subarray(0, -1) : rest };
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const lenientUtf8 = new TextDecoder("utf-8");
const isBlank = (text: string) => text.trim() === "";

type Parsed = { blank: true } | { blank?: false; record?: { key: string | null; value: unknown }; problems: Problem[] };

/** Decodes and parses one line; problems carry their place (line, column, caret). */
function parseLine(line: Line, inputName: string, keyField: string | undefined): Parsed {
  let text: string;
  try {
    text = strictUtf8.decode(line.bytes);
  } catch {
    const at = firstInvalidUtf8(line.bytes);
    const shown = lenientUtf8.decode(line.bytes);
    const column = lenientUtf8.decode(line.bytes.subarray(0, at)).length;
    return {
      problems: [{
        severity: "error",
        message: `not valid UTF-8: byte 0x${line.bytes[at].toString(16).padStart(2, "0")} at byte ${at + 1} of the line. Sluice refuses it rather than store it changed: convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)`,
        at: { file: inputName, line: line.no, column: column + 1 },
        excerpt: { text: shown, start: column, end: column + 1 },
      }],
    };
  }
  if (isBlank(text)) return { blank: true };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const { message, offset, length } = jsonSyntaxError(text, e);
    return { problems: [{ severity: "error", message: `not valid JSON: ${message}`, at: { file: inputName, line: line.no, column: offset + 1 }, excerpt: { text, start: offset, end: offset + Math.max(1, length) } }] };
  }
  const raw = keyField !== undefined && value !== null && typeof value === "object" ? (value as Record<string, unknown>)[keyField] : undefined;
  const key = raw == null ? null : typeof raw === "string" ? raw : JSON.stringify(raw);
  return { record: { key, value }, problems: [] };
}

/**
 * What is wrong with a line JSON.parse refused, and where. V8's message says
 * it best ("expected ',' or ']' after array element") when it has a position;
 * its other messages quote the whole line, so then jsonc-parser's first error
 * gives the place (a symbol that is not JSON, an unterminated string…).
 */
export function jsonSyntaxError(text: string, e: unknown): { message: string; offset: number; length: number } {
  const v8 = e instanceof Error ? e.message : "";
  const at = /^(.*?) in JSON at position (\d+)/s.exec(v8);
  if (at) return { message: at[1].charAt(0).toLowerCase() + at[1].slice(1), offset: Math.min(Number(at[2]), Math.max(0, text.length - 1)), length: 1 };
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false });
  const first = errors[0];
  if (!first) return { message: "invalid", offset: 0, length: 1 };
  return { message: JSON_ERRORS[printParseErrorCode(first.error)] ?? printParseErrorCode(first.error), offset: first.offset, length: first.length };
}

const JSON_ERRORS: Record<string, string> = {
  InvalidSymbol: "unexpected characters (not a JSON value: strings need double quotes)",
  InvalidNumberFormat: "invalid number",
  PropertyNameExpected: "expected a property name in double quotes",
  ValueExpected: "expected a value",
  ColonExpected: "expected ':' after the property name",
  CommaExpected: "expected ','",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: "unexpected text after the value",
  InvalidCommentToken: "comments are not JSON",
  UnexpectedEndOfComment: "unterminated comment",
  UnexpectedEndOfString: "unterminated string",
  UnexpectedEndOfNumber: "unterminated number",
  InvalidUnicode: "invalid \\u escape",
  InvalidEscapeCharacter: "invalid escape in a string",
  InvalidCharacter: "control character in a string (escape it, e.g. \\t)",
};

/** Where the input comes from: the file, or standard input copied to a spool file while it is read the first time. */
class Input {
  private spoolDir?: string;
  private spool?: WriteStream;
  constructor(
    private readonly io: CliIO,
    private readonly file?: string,
  ) {}

  /** The first read: from the source (stdin is copied to the spool as it passes). */
  async *first(): AsyncGenerator<Uint8Array> {
    if (this.file) {
      yield* createReadStream(this.file);
      return;
    }
    this.spoolDir = mkdtempSync(join(tmpdir(), "sluice-produce-"));
    this.spool = createWriteStream(join(this.spoolDir, "stdin"), { mode: 0o600 });
    for await (const chunk of stdinBytes(this.io)) {
      if (!this.spool.write(chunk)) await new Promise<void>((r) => this.spool!.once("drain", () => r()));
      yield chunk;
    }
    await new Promise<void>((resolve, reject) => this.spool!.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }

  /** The second read, for writing: the same bytes again. */
  again(): AsyncIterable<Uint8Array> {
    return createReadStream(this.file ?? join(this.spoolDir!, "stdin"));
  }

  close(): void {
    this.spool?.destroy();
    if (this.spoolDir) rmSync(this.spoolDir, { recursive: true, force: true });
  }
}

const range = (a: number, b: number) => (a === b ? `line ${a}` : `lines ${a}–${b}`);

export async function produceLines(io: CliIO, principal: Principal, o: ProduceOptions): Promise<void> {
  const { produceTarget, prepareRecord } = await import("@/lib/warehouse/produce");
  const target = await produceTarget(principal, o.team, o.name);
  const input = new Input(io, o.file);
  try {
    // Pass 1: check everything.
    let problemCount = 0;
    let badLines = 0;
    let records = 0;
    let lastLine = 0;
    const printed: Problem[] = [];
    for await (const line of splitLines(input.first())) {
      lastLine = line.no;
      const parsed = parseLine(line, o.inputName, o.key);
      if (parsed.blank) continue;
      let problems = parsed.problems;
      if (parsed.record) {
        problems = prepareRecord(target, parsed.record).problems.map((p) => ({ severity: "error", message: p.message, field: p.field || undefined, at: { file: o.inputName, line: line.no } }));
      }
      if (problems.length) {
        badLines++;
        problemCount += problems.length;
        for (const p of problems) if (printed.length < PRINTED_PROBLEMS) printed.push(p);
      } else records++;
    }
    if (problemCount) {
      for (const l of formatProblems(printed)) io.err(l);
      if (problemCount > printed.length) io.err(`… and ${problemCount - printed.length} more problem(s)`);
      io.err(`error: ${problemCount} problem(s) in ${badLines} of ${lastLine} line(s) of ${o.inputName}; nothing was written to ${target.stream}.`);
      throw new Reported(1);
    }
    if (!records) {
      io.out(`No records in ${o.inputName}: nothing to produce.`);
      return;
    }
    await writeAll(io, target, input, o, { records, lines: lastLine }, prepareRecord);
  } finally {
    input.close();
  }
}

type Prepare = (target: ProduceTarget, r: { key: string | null; value: unknown }) => { encoded?: EncodedRecord };

/** Pass 2: the checked lines, in transactions of up to maxTransactionBytes; an exact report if one fails. */
async function writeAll(io: CliIO, target: ProduceTarget, input: Input, o: ProduceOptions, total: { records: number; lines: number }, prepare: Prepare): Promise<void> {
  const { withTransactionalProducer } = await import("@/lib/kafka/shared");
  const { writeTransaction, WriteFailed } = await import("@/lib/warehouse/produce");
  const { explainKafkaConnectionError } = await import("@/lib/kafka/security");
  const interrupted = new AbortController();
  const onSigint = () => interrupted.abort();
  process.once("SIGINT", onSigint);
  // Test hook: the n-th transaction fails after sending, before its commit (see the CLI's integration test).
  const failAt = Number(process.env.SLUICE_FAULT_FAIL_PRODUCE_TRANSACTION ?? 0);
  let written = 0;
  let writtenThrough = 0;
  let transactions = 0;
  let batch: EncodedRecord[] = [];
  let bytes = 0;
  let first = 0;
  let last = 0;

  /** Commits the batch (lines first–last) as one transaction, or reports exactly what is written and stops. */
  const commit = async (producer: Parameters<Parameters<typeof withTransactionalProducer>[0]>[0]) => {
    const n = ++transactions;
    try {
      await writeTransaction(producer, target, batch, {
        signal: interrupted.signal,
        beforeCommit: () => {
          if (n === failAt) throw new Error(`fault injected before the commit of transaction ${n}`);
        },
      });
    } catch (e) {
      if (!(e instanceof WriteFailed)) throw e;
      const done = writtenThrough ? `${range(1, writtenThrough)} (${written} record(s)) were written` : "nothing was written";
      const rest = e.stage === "send"
        ? `${range(first, total.lines)} were not`
        : `the commit of ${range(first, last)} was not confirmed, so they may or may not be in ${target.stream} (read it to check)${last < total.lines ? `, and ${range(last + 1, total.lines)} were not written` : ""}`;
      // The reason only: the sentence before already says exactly what is written.
      const reason = explainKafkaConnectionError(e.cause)?.message ?? e.message;
      io.err(`error: ${done}; ${rest}. The warehouse answered: ${reason}`);
      throw new Reported(1);
    }
    written += batch.length;
    writtenThrough = last;
    batch = [];
    bytes = 0;
  };

  try {
    await withTransactionalProducer(async (producer) => {
      for await (const line of splitLines(input.again())) {
        const parsed = parseLine(line, o.inputName, o.key);
        if (parsed.blank || !parsed.record) continue;
        const { encoded } = prepare(target, parsed.record);
        // Checked in pass 1; the file changing in between would show here.
        if (!encoded) throw new Error(`${o.inputName} changed while it was being produced (line ${line.no})`);
        if (batch.length && bytes + encoded.bytes > o.maxTransactionBytes) await commit(producer);
        if (!batch.length) first = line.no;
        batch.push(encoded);
        bytes += encoded.bytes;
        last = line.no;
      }
      if (batch.length) await commit(producer);
    });
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
  if (written !== total.records) throw new Error(`${o.inputName} changed while it was being produced: ${total.records} records checked, ${written} written`);
  io.out(`Produced ${written} record(s) to ${target.stream}${transactions > 1 ? ` in ${transactions} transactions` : ""}`);
}
