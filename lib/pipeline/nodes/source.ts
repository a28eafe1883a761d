import { z } from "zod";
import { streamName } from "./common";

/** Source: reads a warehouse stream; its output schema is the stream's current schema version. */
export const sourceNodeConfig = z.object({
  stream: streamName,
});
export type SourceNodeConfig = z.infer<typeof sourceNodeConfig>;
