import type { Diagnostic } from "@/lib/pipeline/diagnostics";
import type { Span } from "./ast";
import type { SqlSourceMap } from "./from-sql";

/** A validator diagnostic placed in the SQL it came from. */
export interface SqlDiagnostic extends Diagnostic {
  /** Where in the SQL text (offsets, 1-based lines and columns); absent only when the problem has no place in it. */
  span?: Span;
}

/** `nodes[3].config.stream` (catalog checks) and `config.stream` (validator) name the same place. */
const nodeRelative = (path: string) => path.replace(/^nodes\[\d+\]\./, "");

/**
 * Places each diagnostic at the narrowest SQL span known for it: inside an
 * expression by its character range (the CEL ↔ SQL segments), else the config
 * path (or its nearest parent), else the node, else nowhere.
 */
export function mapDiagnostics(diagnostics: readonly Diagnostic[], sourceMap: SqlSourceMap): SqlDiagnostic[] {
  return diagnostics.map((d) => {
    if (!d.nodeId) return { ...d };
    const paths = sourceMap.paths[d.nodeId] ?? {};
    let path = nodeRelative(d.path);
    let loc = paths[path];
    while (!loc && path.includes(".")) {
      path = path.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
      if (!/[.[]/.test(path) && !paths[path]) break;
      loc = paths[path];
    }
    let span = loc?.span ?? sourceMap.nodes[d.nodeId];
    if (loc?.segments && d.range) {
      let best: { len: number; span: Span } | undefined;
      for (const s of loc.segments) {
        if (s.start <= d.range.start && d.range.start < Math.max(s.end, s.start + 1) && (!best || s.end - s.start < best.len)) best = { len: s.end - s.start, span: s.span };
      }
      if (best) span = best.span;
    }
    return span ? { ...d, span } : { ...d };
  });
}
