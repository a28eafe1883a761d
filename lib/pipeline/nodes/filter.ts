import { z } from "zod";
import { celExpression } from "./common";

/** Filter: keeps records for which the CEL predicate is true. */
export const filterNodeConfig = z.object({
  predicate: celExpression,
});
export type FilterNodeConfig = z.infer<typeof filterNodeConfig>;
