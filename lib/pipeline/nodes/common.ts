import { z } from "zod";

/** Field names are JSON object keys that CEL can reference as identifiers. */
export const fieldName = z
  .string()
  .min(1, "field name is required")
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "use letters, digits and _ (not starting with a digit) so expressions can refer to the field")
  .refine((n) => n !== "__proto__", { message: '"__proto__" cannot be a field name' });

/** Dotted path into nested fields: `user.geo.country`. */
export const fieldPath = z
  .string()
  .min(1, "field path is required")
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, "use a field name or a dotted path like user.geo.country");

/** Warehouse stream names: `layer.team.name` style, as the catalog stores them. */
export const streamName = z
  .string()
  .min(1, "stream is required")
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "use letters, digits, '.', '_' and '-'");

/** A CEL expression's text; type-checked by the validator against the node's input schema. */
export const celExpression = z.string().min(1, "expression is required").max(8192);

/** Output/input port names (Split outputs, Union inputs). */
export const portName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "use letters, digits, '_' and '-', starting with a letter");
