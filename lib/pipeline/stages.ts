/**
 * A deployed pipeline runs in stages (docs/runtime.md "Stages"): "main"
 * reads the pipeline's sources; every other stage is named by the Window node
 * it starts with and reads that Window's repartition stream. Most pipelines
 * have the main stage only. The compiler cuts them (lib/compiler/stages.ts).
 */
import type { Pipeline, PipelineEdge } from "./nodes";

export const MAIN_STAGE = "main";

/**
 * Which stage each node runs in, when Windows cut the graph: a Window starts
 * its own stage (named by its id), a Source is in "main", any other node is in
 * the stage of its inputs. A node whose inputs come from different stages
 * cannot run in stages (`merges` lists them); pure graph walk, no validation.
 */
export function nodeStages(pipeline: Pipeline): { stageOf: Map<string, string>; merges: { nodeId: string; from: string[] }[] } {
  const incoming = new Map<string, PipelineEdge[]>(pipeline.nodes.map((n) => [n.id, []]));
  for (const e of pipeline.edges) incoming.get(e.target)?.push(e);
  const byId = new Map(pipeline.nodes.map((n) => [n.id, n]));
  const stageOf = new Map<string, string>();
  const merges: { nodeId: string; from: string[] }[] = [];
  const visit = (id: string, path: Set<string>): string => {
    const known = stageOf.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    if (!node || path.has(id)) return MAIN_STAGE; // dangling edge or cycle: the validator reports those
    path.add(id);
    let stage: string;
    if (node.type === "window") stage = id;
    else if (node.type === "source") stage = MAIN_STAGE;
    else {
      const from = [...new Set(incoming.get(id)!.map((e) => visit(e.source, path)))];
      stage = from[0] ?? MAIN_STAGE;
      if (from.length > 1) merges.push({ nodeId: id, from });
    }
    path.delete(id);
    stageOf.set(id, stage);
    return stage;
  };
  for (const n of pipeline.nodes) visit(n.id, new Set());
  return { stageOf, merges };
}
