import { z } from "zod";
import { streamName } from "./common";

/** Sink: writes a warehouse stream; if the stream exists, the node's input must fit its schema. */
export const sinkNodeConfig = z.object({
  stream: streamName,
});
export type SinkNodeConfig = z.infer<typeof sinkNodeConfig>;
