/**
 * The pipeline compiler: validation with schema propagation (analyze), the
 * executable plan (fusion, encoded routes, Window and UDF nodes), canonical
 * hashes of a node's logic. One implementation for the validator, the live
 * preview and the workers. It builds on the model (lib/pipeline) and the
 * operators (lib/operators, lib/expr, lib/udf); nothing below imports it.
 * Pure: no I/O imports.
 */
export { validatePipeline, type ValidationResult } from "./validate";
export { analyzePipeline, type ValidationContext, type StreamInfo, type RegisteredFunction } from "./analyze";
export { compilePipeline, PipelineCompileError, PARTIAL_GRAPH_CODES, SINK_STREAM_MISSING, type Plan, type PlanResult, type ProcessOptions, type CompileOptions, type SourceCheck } from "./plan";
export { canonicalForm, canonicalHash, canonicalHashes } from "./canonical";
export type { PartitionId } from "@/lib/operators/window";
export type { RecordError, NodeCounts } from "@/lib/operators/types";
