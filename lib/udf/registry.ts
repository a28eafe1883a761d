import { z } from "zod";
import { functionName, UDF_FORMS, udfSource } from "@/lib/pipeline/nodes/udf";
import type { OpDiagnostic } from "@/lib/operators/types";
import { validateUdfSource } from "./validate";

/**
 * The pure part of the function registry: what a user submits to create a
 * function or a new version of it, and the checks before the lead's Function
 * model stores it. Versions are immutable; each save of changed source or form
 * is a new version (1, 2, 3…), and deployments pin the version they resolved.
 */
export const functionVersionInput = z.object({
  name: functionName,
  form: z.enum(UDF_FORMS),
  source: udfSource,
  description: z.string().max(2_000).optional(),
});
export type FunctionVersionInput = z.infer<typeof functionVersionInput>;

/** Compile-checks a submitted version; diagnostics point at `source`. */
export function checkFunctionVersion(input: FunctionVersionInput): OpDiagnostic[] {
  return validateUdfSource(input.source, input.form, "source");
}

/**
 * The version number a save creates, or null when the latest version already
 * has this source and form (saving twice must not mint a new version).
 */
export function nextFunctionVersion(
  existing: readonly { version: number; source: string; form: string }[],
  input: Pick<FunctionVersionInput, "source" | "form">,
): number | null {
  if (existing.length === 0) return 1;
  const latest = existing.reduce((a, b) => (b.version > a.version ? b : a));
  if (latest.source === input.source && latest.form === input.form) return null;
  return latest.version + 1;
}
