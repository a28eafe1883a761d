import type { PipelineDoc } from "./store";

/**
 * source → filter → sink, the smallest pipeline the canvas tests edit. Ports
 * are written out because the store fills them in: a round trip through
 * `toDoc` must give this document back unchanged.
 */
export const sourceFilterSink: PipelineDoc = {
  version: 1,
  nodes: [
    { id: "source-1", type: "source", config: { stream: "ods.clicks" }, position: { x: 0, y: 0 } },
    { id: "filter-1", type: "filter", config: { predicate: "amount > 1.0" }, position: { x: 200, y: 0 } },
    { id: "sink-1", type: "sink", config: { stream: "dwd.big" }, position: { x: 400, y: 0 } },
  ],
  edges: [
    { source: "source-1", sourcePort: "out", target: "filter-1", targetPort: "in" },
    { source: "filter-1", sourcePort: "out", target: "sink-1", targetPort: "in" },
  ],
};
