import { z } from "zod";
import { field } from "@/lib/warehouse/field-schema";

export const UDF_FORMS = ["map", "flatMap", "filter"] as const;
export type UdfForm = (typeof UDF_FORMS)[number];

/** Function registry names: what users pick on the canvas and call from CEL. */
export const functionName = z
  .string()
  .min(1, "function name is required")
  .max(64)
  .regex(/^[a-z][a-z0-9_]*$/, "use lower-case letters, digits and _, starting with a letter");

/** A user's JavaScript function body; 64 KiB is far above any sensible record transform. */
export const udfSource = z.string().min(1, "function source is required").max(65_536, "function source is longer than 64 KiB");

/**
 * Source form: the text of one JavaScript function expression taking a record,
 * e.g. `(r) => ({ ...r, total: r.price * r.qty })`.
 * - map returns one record (an object),
 * - flatMap returns an array of records (0..n),
 * - filter returns true to keep the record (any other value drops it).
 */
export const inlineUdf = z.object({ source: udfSource, form: z.enum(UDF_FORMS) });
export type InlineUdf = z.infer<typeof inlineUdf>;

/** A reference into the team's function registry; no version = latest at deploy time (the deployment pins it). */
export const udfReference = z.object({ name: functionName, version: z.number().int().positive().optional() });
export type UdfReference = z.infer<typeof udfReference>;

export const UDF_LIMITS = {
  timeoutMs: { min: 10, max: 10_000, default: 1_000 },
  memoryMb: { min: 8, max: 512, default: 64 },
} as const;

/**
 * UDF: runs a user's JavaScript function over each batch in an isolated V8
 * heap (isolated-vm). `timeoutMs` is the budget for one call into the
 * isolate (a chunk of up to 512 records), `memoryMb` the isolate heap limit. `outputSchema` declares the map/flatMap output fields;
 * without it the output is `json`-typed pass-through of what the function returns.
 */
export const udfNodeConfig = z.object({
  function: z.union([udfReference, z.object({ inline: inlineUdf })]),
  outputSchema: z.array(field).min(1).max(500).optional(),
  timeoutMs: z.number().int().min(UDF_LIMITS.timeoutMs.min).max(UDF_LIMITS.timeoutMs.max).default(UDF_LIMITS.timeoutMs.default),
  memoryMb: z.number().int().min(UDF_LIMITS.memoryMb.min).max(UDF_LIMITS.memoryMb.max).default(UDF_LIMITS.memoryMb.default),
});
export type UdfNodeConfig = z.infer<typeof udfNodeConfig>;
