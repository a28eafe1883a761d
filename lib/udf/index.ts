export { UdfSandbox, UdfCompileError, liveIsolates, MAX_TIMEOUTS_PER_BATCH } from "./sandbox";
export type { UdfBatchResult, UdfLimits, UdfRecordError } from "./sandbox";
export { validateUdfSource } from "./validate";
export { MAX_FLATMAP_OUTPUTS, MAX_RECORD_CHARS } from "./runner";
