import type { SqlDiagnostic } from "./diagnostics";

/**
 * Diagnostics as a compiler prints them: `query.sql:4:7: error: message`,
 * then the SQL line with a caret under the place, so a terminal user finds
 * the problem without opening the canvas.
 */
export function formatSqlDiagnostics(file: string, sql: string, diagnostics: readonly SqlDiagnostic[]): string[] {
  const lines = sql.split(/\r?\n/);
  const out: string[] = [];
  const sorted = [...diagnostics].sort((a, b) => (a.span?.start ?? Infinity) - (b.span?.start ?? Infinity));
  for (const d of sorted) {
    const where = d.span ? `${file}:${d.span.line}:${d.span.column}` : file;
    const what = [d.code, d.nodeId ? `node ${d.nodeId}` : ""].filter(Boolean).join(", ");
    out.push(`${where}: ${d.severity}: ${d.message}${what ? ` [${what}]` : ""}`);
    if (!d.span) continue;
    const text = lines[d.span.line - 1] ?? "";
    const width = d.span.endLine === d.span.line ? Math.max(1, d.span.endColumn - d.span.column) : Math.max(1, text.length - d.span.column + 1);
    const gutter = String(d.span.line).length;
    out.push(`  ${d.span.line} | ${text}`);
    out.push(`  ${" ".repeat(gutter)} | ${" ".repeat(d.span.column - 1)}${"^".repeat(width)}`);
  }
  return out;
}
