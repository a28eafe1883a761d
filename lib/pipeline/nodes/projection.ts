import { z } from "zod";
import { celExpression, fieldName, fieldPath } from "./common";

export const castTarget = z.enum(["string", "int", "float", "bool", "timestamp", "json"]);
export type CastTarget = z.infer<typeof castTarget>;

/**
 * One output field: copied/renamed from an input path (`from`) or computed by a
 * CEL expression (`expr`), optionally cast. Exactly one of from/expr.
 */
export const projectionField = z
  .object({
    name: fieldName,
    from: fieldPath.optional(),
    expr: celExpression.optional(),
    cast: castTarget.optional(),
  })
  .refine((f) => (f.from === undefined) !== (f.expr === undefined), {
    message: "set exactly one of `from` (copy a field) or `expr` (compute a value)",
  });
export type ProjectionField = z.infer<typeof projectionField>;

export const flattenRule = z.object({
  field: fieldName,
  separator: z.string().max(8).default("_"),
});

/**
 * Projection: select, rename, compute, drop, cast and flatten.
 * - `fields` are the output fields, in order.
 * - `keepOthers` also passes through every input field not listed, not dropped
 *   and not renamed away (an entry `{name: "uid", from: "user_id"}` moves user_id).
 * - `drop` removes input fields from the pass-through.
 * - `flatten` replaces a struct output field by its leaves: user.id → user_id.
 */
export const projectionNodeConfig = z.object({
  fields: z.array(projectionField).default([]),
  keepOthers: z.boolean().default(false),
  drop: z.array(fieldName).default([]),
  flatten: z.array(flattenRule).default([]),
});
export type ProjectionNodeConfig = z.infer<typeof projectionNodeConfig>;
