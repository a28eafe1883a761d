import { z } from "zod";
import { fieldName } from "./common";

/**
 * Union: merges two or more inputs. Schemas are aligned by field name (a field
 * missing from one input is null there). With `sourceField`, each output record
 * names its input: the value is the target port name of the edge it came in on.
 */
export const unionNodeConfig = z.object({
  sourceField: fieldName.optional(),
});
export type UnionNodeConfig = z.infer<typeof unionNodeConfig>;
