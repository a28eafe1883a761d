/**
 * The pipeline model: the format (one zod schema per node type), parsing,
 * schemas and records, ports, diagnostics and diffs. Shared by the canvas
 * editor, the API, the compiler (lib/compiler) and the operators
 * (lib/operators), which build on it; it imports none of them. Pure: no I/O.
 */
export { parsePipeline, type ParseResult } from "./parse";
export { decodeRecord, encodeRecord } from "./codec";
export type { Diagnostic, Severity } from "./diagnostics";
export { hasErrors } from "./diagnostics";
export { outputPorts } from "./ports";
export * from "./nodes";
export * from "./schema";
