// node-sql-parser's Trino grammar: of the grammars it ships, the one that
// parses everything Sluice SQL needs (CREATE VIEW, nested field paths, window
// table functions with DESCRIPTOR, list indexing) and attaches a source
// location to almost every node, which is what maps diagnostics to a line and
// column. Its FlinkSQL grammar parses only TUMBLE among the window functions,
// no CREATE VIEW and no a.b.c paths, and records locations on function calls
// only (docs/sql.md, "Why this grammar"). The per-dialect build keeps the
// other grammars out of the bundle.
import trino from "node-sql-parser/build/trino";

/** A node of node-sql-parser's AST: loosely typed upstream, so read defensively. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SqlNode = Record<string, any>;

/** A range of the SQL text: offsets, plus 1-based line and column of its start and end. */
export interface Span {
  start: number;
  end: number;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/** A problem with the SQL itself (syntax, or a construct Sluice SQL does not have). */
export class SqlError extends Error {
  constructor(
    message: string,
    readonly span?: Span,
  ) {
    super(message);
    this.name = "SqlError";
  }
}

export function spanOf(n: SqlNode | undefined | null): Span | undefined {
  const loc = n?.loc as { start: { offset: number; line: number; column: number }; end: { offset: number; line: number; column: number } } | undefined;
  if (!loc) return undefined;
  return { start: loc.start.offset, end: loc.end.offset, line: loc.start.line, column: loc.start.column, endLine: loc.end.line, endColumn: loc.end.column };
}

/** The span of [start, end) in `text`, with lines and columns computed. */
export function spanAt(text: string, start: number, end = start): Span {
  const pos = (offset: number) => {
    let line = 1;
    let last = -1;
    for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) ((line += 1), (last = i));
    return { line, column: offset - last };
  };
  const a = pos(start);
  const b = pos(end);
  return { start, end, line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
}

// A CommonJS build: its default export is the module object.
const parser = new trino.Parser();

/** Longest SQL text accepted: a pipeline of 500 nodes fits comfortably. */
export const MAX_SQL_LENGTH = 256 * 1024;

/** Parses SQL text into statements; a syntax error becomes an SqlError at its position. */
export function parseStatements(text: string): SqlNode[] {
  if (text.length > MAX_SQL_LENGTH) throw new SqlError(`the SQL text is longer than ${MAX_SQL_LENGTH / 1024} KiB`);
  let ast: SqlNode | SqlNode[];
  try {
    ast = parser.astify(text, { database: "trino", parseOptions: { includeLocations: true } }) as unknown as SqlNode | SqlNode[];
  } catch (e) {
    const err = e as { message?: string; location?: { start: { offset: number }; end: { offset: number } }; found?: string | null; expected?: { type: string; text?: string; description?: string }[] };
    if (e instanceof RangeError) throw new SqlError("the SQL is nested too deeply");
    if (err.location) {
      const found = err.found === null || err.found === undefined ? "end of text" : `"${err.found}"`;
      const expected = (err.expected ?? [])
        .filter((x) => x.type === "literal" && x.text && /^[A-Z(),;=*]/.test(x.text))
        .map((x) => x.text!)
        .filter((x, i, all) => all.indexOf(x) === i)
        .slice(0, 8);
      const hint = expected.length ? `; expected ${expected.join(", ")}` : "";
      throw new SqlError(`syntax error: unexpected ${found}${hint}`, spanAt(text, err.location.start.offset, Math.max(err.location.end.offset, err.location.start.offset + 1)));
    }
    throw new SqlError(`syntax error: ${err.message ?? String(e)}`);
  }
  return Array.isArray(ast) ? ast : [ast];
}
