import { z } from "zod";
import { parseEnv } from "./parse";

/** Limits of UDF test runs (web process), parsed on each use. docs/security.md. */
export const udfTestLimitsSchema = z.object({
  /** Test runs one team may have running at once. */
  UDF_TEST_RUNS_PER_TEAM: z.coerce.number().int().min(1).max(1_000).default(2),
  /** Test runs the whole installation runs at once. */
  UDF_TEST_RUNS_TOTAL: z.coerce.number().int().min(1).max(10_000).default(8),
});
export type UdfTestLimits = z.infer<typeof udfTestLimitsSchema>;

export function udfTestLimits(): UdfTestLimits {
  return parseEnv(udfTestLimitsSchema);
}
