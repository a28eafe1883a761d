import { z } from "zod";
import { celExpression, portName } from "./common";

export const ELSE_PORT = "else";

export const splitOutput = z.object({
  name: portName.refine((n) => n !== ELSE_PORT, { message: `"${ELSE_PORT}" is reserved for unmatched records` }),
  condition: celExpression,
});

/**
 * Split: routes each record to the first matching named output (`mode: "first"`)
 * or to every matching output (`mode: "all"`). Unmatched records go to the
 * `else` output or are dropped and counted.
 */
export const splitNodeConfig = z.object({
  outputs: z.array(splitOutput).min(1, "a split needs at least one named output"),
  mode: z.enum(["first", "all"]).default("first"),
  unmatched: z.enum(["else", "drop"]).default("drop"),
});
export type SplitNodeConfig = z.infer<typeof splitNodeConfig>;
