import { z } from "zod";

/**
 * Placeholders until core-2's `window.ts` and `udf.ts` land in this folder;
 * index.ts switches to their real schemas then and this file is deleted.
 */
export const windowNodeConfig = z.looseObject({});
export type WindowNodeConfig = z.infer<typeof windowNodeConfig>;
export const udfNodeConfig = z.looseObject({});
export type UdfNodeConfig = z.infer<typeof udfNodeConfig>;
