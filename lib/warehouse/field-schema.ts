import { z } from "zod";
import type { Field, FieldType, StreamSchema } from "@/lib/pipeline/schema";

/** zod form of a stream's field list (lib/pipeline/schema.ts), as the API and forms accept it. */
export const fieldType: z.ZodType<FieldType> = z.lazy(() =>
  z.union([
    z.enum(["string", "int", "float", "bool", "timestamp", "json"]),
    z.object({ list: fieldType }).strict(),
    z.object({ struct: z.array(field).min(1) }).strict(),
  ]),
);

export const field: z.ZodType<Field> = z.lazy(() =>
  z
    .object({
      name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "field names are letters, digits and _ (not starting with a digit)"),
      type: fieldType,
      nullable: z.boolean().optional(),
      doc: z.string().max(2000).optional(),
    })
    .strict(),
);

export const streamSchemaInput = z
  .array(field)
  .min(1, "a stream needs at least one field")
  .max(500)
  .superRefine((fields, ctx) => {
    const seen = new Set<string>();
    fields.forEach((f, i) => {
      if (seen.has(f.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate field "${f.name}"` });
      seen.add(f.name);
    });
  }) as z.ZodType<StreamSchema>;
