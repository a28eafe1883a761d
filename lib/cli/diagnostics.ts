import { findNodeAtLocation, parseTree, type Node as JsonNode } from "jsonc-parser";
import type { Diagnostic } from "@/lib/pipeline";

/**
 * The CLI's one diagnostics printer, for every command that can get problems
 * back (pipeline apply from JSON or SQL, deploy, stream produce). Each problem
 * prints as a compiler prints it:
 *
 *   big-clicks.json:6:62: error: config.predicate: unknown field "amout" [unknown-field, node big]
 *       | amout > 10.0
 *       | ^^^^^
 *
 * where (file:line:column, or file:line, or nothing when there is no file),
 * severity, the field path, the message, then the code and node; and, when the
 * source is known, the line with a caret under the exact range (for CEL
 * expressions: the expression with a caret under the part that is wrong).
 */
export interface Problem {
  severity: "error" | "warning" | "info";
  message: string;
  code?: string;
  nodeId?: string;
  /** The field the problem is in: `config.fields[2].expr`, or a record's `geo.country`. */
  field?: string;
  /** Where: a file (or "stdin") with a 1-based line and optional 1-based column. */
  at?: { file: string; line?: number; column?: number };
  /** A line of source with a caret under [start, end) (0-based); `lineNo` labels it when it is a line of the file. */
  excerpt?: { text: string; start: number; end: number; lineNo?: number };
}

/** Long lines (minified JSON) are cut to this many characters around the caret. */
const EXCERPT_WIDTH = 100;

export function formatProblems(problems: readonly Problem[]): string[] {
  const out: string[] = [];
  for (const p of problems) {
    const where = p.at ? `${p.at.file}${p.at.line !== undefined ? `:${p.at.line}${p.at.column !== undefined ? `:${p.at.column}` : ""}` : ""}: ` : "";
    const tags = [p.code, p.nodeId !== undefined ? `node ${p.nodeId}` : undefined].filter(Boolean).join(", ");
    out.push(`${where}${p.severity}: ${p.field ? `${p.field}: ` : ""}${p.message}${tags ? ` [${tags}]` : ""}`);
    if (p.excerpt) out.push(...caret(p.excerpt));
  }
  return out;
}

/** The excerpt's line and a caret line under the range, clipped to the line and cut around the range when long. */
function caret({ text, start, end, lineNo }: NonNullable<Problem["excerpt"]>): string[] {
  let from = Math.max(0, Math.min(start, text.length));
  let to = Math.max(from + 1, Math.min(end, text.length));
  let shown = text;
  let cut = 0;
  if (text.length > EXCERPT_WIDTH) {
    cut = Math.max(0, Math.min(from - 20, text.length - EXCERPT_WIDTH));
    shown = (cut > 0 ? "…" : "") + text.slice(cut, cut + EXCERPT_WIDTH) + (cut + EXCERPT_WIDTH < text.length ? "…" : "");
    const shift = cut > 0 ? cut - 1 : 0;
    from -= shift;
    to = Math.min(to - shift, shown.length);
  }
  const gutter = lineNo !== undefined ? String(lineNo) : "";
  return [`  ${gutter} | ${shown}`, `  ${" ".repeat(gutter.length)} | ${" ".repeat(from)}${"^".repeat(Math.max(1, to - from))}`];
}

/** `config.fields[2].expr` → ["config", "fields", 2, "expr"]. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

/** The source a pipeline's diagnostics refer to: the file's text and where the definition sits in it. */
export interface PipelineSource {
  file?: string;
  text?: string;
  /** The definition itself (to show expressions), when there is no file text. */
  pipeline?: unknown;
  /** JSON path of the definition inside the file: ["pipeline"] for {name, pipeline}. */
  prefix?: (string | number)[];
}

/**
 * Pipeline validator diagnostics (lib/pipeline) as problems: placed at the
 * line and column of the node's field in the JSON file, with a caret under the
 * expression range when the problem is in CEL text.
 */
export function pipelineProblems(diagnostics: readonly Diagnostic[], source: PipelineSource = {}): Problem[] {
  const tree = source.text !== undefined ? parseTree(source.text) : undefined;
  const value = source.pipeline ?? (tree ? nodeValue(tree, source.prefix ?? []) : undefined);
  const nodes = (value as { nodes?: { id?: unknown }[] } | undefined)?.nodes;
  const lineStarts = source.text !== undefined ? lineStartsOf(source.text) : [];
  return diagnostics.map((d) => {
    // Paths are relative to the node, except the pipeline-level ones (nodes[3]…, edges[1], nodes).
    const rel = parsePath(d.path);
    const rooted = rel[0] === "nodes" || rel[0] === "edges";
    const index = Array.isArray(nodes) && d.nodeId !== undefined ? nodes.findIndex((n) => n?.id === d.nodeId) : -1;
    // A problem with the node as a whole points at its id.
    const path = rooted ? rel : index >= 0 ? ["nodes", index, ...(rel.length ? rel : ["id"])] : undefined;
    const problem: Problem = { severity: d.severity, message: d.message, code: d.code, nodeId: d.nodeId, field: d.path || undefined };
    const at = path ? locate(tree, [...(source.prefix ?? []), ...path]) : undefined;
    const exprText = path ? valueAt(value, path) : undefined;
    if (source.file) problem.at = { file: source.file };
    if (at && source.file && tree) {
      const offset = d.range && typeof exprText === "string" && at.type === "string" ? at.offset + 1 + rawIndex(source.text!.slice(at.offset + 1, at.offset + at.length - 1), d.range.start) : at.offset;
      const { line, column } = position(lineStarts, offset);
      problem.at = { file: source.file, line, column };
      // Under a value, the whole value; under an object or list (the parent of a missing field), its first character.
      const width = at.type === "object" || at.type === "array" ? 1 : at.length;
      if (!d.range) problem.excerpt = { text: lineText(source.text!, lineStarts, line), start: column - 1, end: column - 1 + width, lineNo: line };
    }
    if (d.range && typeof exprText === "string") problem.excerpt = expressionExcerpt(exprText, d.range);
    return problem;
  });
}

/** The expression's line that holds the range's start, with the range (clipped to that line). */
function expressionExcerpt(expr: string, range: { start: number; end: number }): Problem["excerpt"] {
  const lineStart = expr.lastIndexOf("\n", Math.max(0, range.start - 1)) + 1;
  const nl = expr.indexOf("\n", range.start);
  const lineEnd = nl < 0 ? expr.length : nl;
  return { text: expr.slice(lineStart, lineEnd), start: range.start - lineStart, end: Math.min(range.end, lineEnd) - lineStart };
}

function locate(tree: JsonNode | undefined, path: (string | number)[]): JsonNode | undefined {
  if (!tree) return undefined;
  // The deepest node of the path that exists: a missing field is shown at its parent object.
  for (let n = path.length; n >= 0; n--) {
    const node = findNodeAtLocation(tree, path.slice(0, n));
    // findNodeAtLocation returns an object property's value; keys are not part of the path.
    if (node) return node;
  }
  return undefined;
}

function nodeValue(tree: JsonNode, path: (string | number)[]): unknown {
  const node = findNodeAtLocation(tree, path);
  return node ? toValue(node) : undefined;
}

function toValue(node: JsonNode): unknown {
  switch (node.type) {
    case "object":
      return Object.fromEntries((node.children ?? []).map((p) => [p.children![0].value as string, p.children![1] ? toValue(p.children![1]) : undefined]));
    case "array":
      return (node.children ?? []).map(toValue);
    default:
      return node.value;
  }
}

function valueAt(value: unknown, path: (string | number)[]): unknown {
  let v = value;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[k];
  }
  return v;
}

/** Offset in a JSON string token's raw text (between the quotes) of the decoded character `index`. */
function rawIndex(raw: string, index: number): number {
  let decoded = 0;
  let i = 0;
  while (i < raw.length && decoded < index) {
    if (raw[i] === "\\") i += raw[i + 1] === "u" ? 6 : 2;
    else i += 1;
    decoded += 1;
  }
  return i;
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return starts;
}

function position(lineStarts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - lineStarts[lo] + 1 };
}

function lineText(text: string, lineStarts: number[], line: number): string {
  const start = lineStarts[line - 1];
  const end = line < lineStarts.length ? lineStarts[line] - 1 : text.length;
  return text.slice(start, end).replace(/\r$/, "");
}

/** SQL diagnostics (lib/sql: spans with 1-based lines and columns) as problems with the SQL line and a caret. */
export function sqlProblems(file: string, sql: string, diagnostics: readonly (Diagnostic & { span?: { line: number; column: number; endLine: number; endColumn: number } })[]): Problem[] {
  const lines = sql.split(/\r?\n/);
  return [...diagnostics]
    .sort((a, b) => (a.span ? a.span.line * 1e6 + a.span.column : Infinity) - (b.span ? b.span.line * 1e6 + b.span.column : Infinity))
    .map((d) => {
      const p: Problem = { severity: d.severity, message: d.message, code: d.code, nodeId: d.nodeId, at: { file } };
      if (!d.span) return p;
      const text = lines[d.span.line - 1] ?? "";
      p.at = { file, line: d.span.line, column: d.span.column };
      const end = d.span.endLine === d.span.line ? d.span.endColumn - 1 : text.length;
      p.excerpt = { text, start: d.span.column - 1, end, lineNo: d.span.line };
      return p;
    });
}
