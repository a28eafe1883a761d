/**
 * The pipeline model and its one implementation, shared by the canvas editor,
 * the API, the live preview and the workers. Pure: no I/O imports.
 */
export { parsePipeline, type ParseResult } from "./parse";
export { validatePipeline, type ValidationResult } from "./validate";
export { analyzePipeline, type ValidationContext, type StreamInfo, type RegisteredFunction } from "./analyze";
export { compilePipeline, PipelineCompileError, PARTIAL_GRAPH_CODES, type Plan, type PlanResult, type ProcessOptions, type CompileOptions, type SourceCheck } from "./plan";
export type { PartitionId } from "@/lib/operators/window";
export { canonicalForm, canonicalHash, canonicalHashes } from "./canonical";
export { decodeRecord, encodeRecord } from "./codec";
export type { Diagnostic, Severity } from "./diagnostics";
export { hasErrors } from "./diagnostics";
export { outputPorts } from "./ports";
export * from "./nodes";
export * from "./schema";
export type { RecordError, NodeCounts } from "@/lib/operators/types";
