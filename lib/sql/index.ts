/**
 * Pipelines as SQL (docs/sql.md): the Sluice SQL dialect in both directions,
 * diagnostics mapped to SQL lines and columns, and the Flink SQL export.
 * Pure: no I/O.
 */
export { pipelineToSql, type SqlProblem, type ToSqlResult } from "./to-sql";
export { sqlToPipeline, type FromSqlResult, type SqlSourceMap, type SqlLocation } from "./from-sql";
export { mapDiagnostics, type SqlDiagnostic } from "./diagnostics";
export { celToSql } from "./cel-to-sql";
export { SqlError, type Span } from "./ast";
