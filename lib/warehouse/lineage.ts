import type { Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";
import { AppError } from "@/lib/errors";
import type { Pipeline } from "@/lib/pipeline";
import { accessOf } from "./access";

export interface LineageNode {
  id: string; // "stream:<name>" | "pipeline:<team>/<name>"
  kind: "stream" | "pipeline";
  name: string;
  team: string;
  /** Streams only: ODS, DWD, DWS or ADS. */
  layer?: string;
  state?: string;
}
export interface LineageEdge {
  from: string;
  to: string;
}

interface PipelineIO {
  id: string;
  name: string;
  team: string;
  state: string;
  reads: string[];
  writes: string[];
}

/**
 * Who produces and who consumes each stream: every pipeline's deployed
 * version (or its latest saved version when not deployed), read as
 * Source/Sink streams. One pass over pipelines; fine for catalogs of
 * thousands of pipelines, and the place to add a materialised table later.
 */
async function pipelineIO(): Promise<PipelineIO[]> {
  const [rows, internal] = await Promise.all([
    prisma().pipeline.findMany({
      include: { team: true, deployment: { include: { version: true } }, versions: { orderBy: { version: "desc" }, take: 1 } },
    }),
    prisma().stream.findMany({ where: { internalPipelineId: { not: null } }, select: { name: true, internalPipelineId: true } }),
  ]);
  return rows.flatMap((p) => {
    const graph = (p.deployment?.version.graph ?? p.versions[0]?.graph) as unknown as Pipeline | undefined;
    if (!graph?.nodes) return [];
    // A pipeline's repartition streams (keyed scale-out): it writes and reads them itself.
    const own = internal.filter((s) => s.internalPipelineId === p.id).map((s) => s.name);
    const reads = [...graph.nodes.flatMap((n) => (n.type === "source" ? [n.config.stream] : [])), ...own];
    const writes = [...graph.nodes.flatMap((n) => (n.type === "sink" ? [n.config.stream] : [])), ...own];
    const state = p.deployment ? (p.deployment.desiredState === "running" ? p.deployment.actualState : "stopped") : "draft";
    return [{ id: p.id, name: p.name, team: p.team.slug, state, reads, writes }];
  });
}

/**
 * The lineage graph around a stream or a pipeline, `depth` hops each way,
 * as the given team may see it: streams private to other teams are left out.
 */
export async function lineage(principal: Principal, teamSlug: string, root: { stream: string } | { pipeline: string }, depth = 2) {
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const [io, streams] = await Promise.all([
    pipelineIO(),
    prisma().stream.findMany({ include: { ownerTeam: true, grants: { where: { teamId: team.id } } } }),
  ]);
  const visible = new Map(streams.filter((s) => accessOf(s, team.id)).map((s) => [s.name, s]));
  const streamId = (n: string) => `stream:${n}`;
  const pipelineId = (p: PipelineIO) => `pipeline:${p.team}/${p.name}`;
  const rootId = "stream" in root ? streamId(root.stream) : `pipeline:${team.slug}/${root.pipeline}`;
  if ("stream" in root && !visible.has(root.stream)) throw new AppError("not_found", `Stream "${root.stream}" was not found.`);
  if ("pipeline" in root && !io.some((p) => pipelineId(p) === rootId)) throw new AppError("not_found", `Pipeline "${root.pipeline}" in team "${team.slug}" was not found.`);

  const edges: LineageEdge[] = [];
  for (const p of io) {
    for (const s of p.reads) if (visible.has(s)) edges.push({ from: streamId(s), to: pipelineId(p) });
    for (const s of p.writes) if (visible.has(s)) edges.push({ from: pipelineId(p), to: streamId(s) });
  }
  // Breadth-first, up and down from the root, `depth` hops (a hop = stream↔pipeline).
  const keep = new Set([rootId]);
  for (const dir of ["up", "down"] as const) {
    let frontier = [rootId];
    for (let d = 0; d < depth * 2 && frontier.length; d++) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const e of edges) {
          const other = dir === "down" ? (e.from === id ? e.to : undefined) : e.to === id ? e.from : undefined;
          if (other && !keep.has(other)) {
            keep.add(other);
            next.push(other);
          }
        }
      }
      frontier = next;
    }
  }
  const nodes: LineageNode[] = [...keep].map((id) => {
    if (id.startsWith("stream:")) {
      const s = visible.get(id.slice(7))!;
      return { id, kind: "stream", name: s.name, team: s.ownerTeam.slug, layer: s.layer };
    }
    const p = io.find((x) => pipelineId(x) === id)!;
    return { id, kind: "pipeline", name: p.name, team: p.team, state: p.state };
  });
  return { root: rootId, nodes, edges: edges.filter((e) => keep.has(e.from) && keep.has(e.to)) };
}

/** "3 pipelines in 2 teams read this": direct consumers of a stream, before it is deleted or its schema changes. */
export async function streamImpact(streamName: string) {
  const consumers = (await pipelineIO()).filter((p) => p.reads.includes(streamName));
  const teams = new Set(consumers.map((c) => c.team));
  const running = consumers.filter((c) => c.state === "running" || c.state === "starting");
  return {
    consumers: consumers.map((c) => ({ pipeline: c.name, team: c.team, state: c.state })),
    summary: consumers.length
      ? `${consumers.length} pipeline${consumers.length === 1 ? "" : "s"} in ${teams.size} team${teams.size === 1 ? "" : "s"} read this${running.length ? ` (${running.length} running)` : ""}`
      : "No pipeline reads this stream.",
  };
}
