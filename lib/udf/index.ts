export { UdfSandbox, UdfCompileError, liveIsolates, MAX_TIMEOUTS_PER_BATCH, CHUNK_ROWS } from "./sandbox";
export type { UdfBatchResult, UdfEncodedResult, UdfLimits, UdfRecordError } from "./sandbox";
export { recordCheckSource } from "./record-check-source";
export { validateUdfSource } from "./validate";
export { buildUdf } from "./node";
export type { BuiltUdf, ResolvedUdf, UdfDefinition, UdfLookup } from "./node";
export { MAX_BATCH_CHARS, MAX_FLATMAP_OUTPUTS, MAX_RECORD_CHARS } from "./runner";
export { checkFunctionVersion, functionVersionInput, nextFunctionVersion } from "./registry";
export type { FunctionVersionInput } from "./registry";
