import { prisma } from "@/lib/db/prisma";
import type { Diagnostic, Pipeline } from "@/lib/pipeline";
import { accessOf } from "./access";

/** Canonical logic hash of each Sink's upstream (node id → stream and hash), from a valid pipeline's hashes. */
export function sinkLogicHashes(pipeline: Pipeline, logicHashes: Record<string, string>): Map<string, { stream: string; hash: string }> {
  return new Map(pipeline.nodes.flatMap((n) => (n.type === "sink" && logicHashes[n.id] ? [[n.id, { stream: n.config.stream, hash: logicHashes[n.id] }] as const] : [])));
}

/**
 * "This stream already exists": for every Sink whose upstream logic (same
 * sources, same operators, regardless of node ids, layout or field order) has
 * the same canonical hash as a stream some pipeline already produces, an info
 * diagnostic naming that stream — only streams the team can see, so a
 * private stream of another team is never revealed. Takes the hashes that
 * validation computes for a pipeline without errors (validatePipeline's
 * `logicHashes`): an invalid graph, e.g. one with a cycle, has none.
 */
export async function equivalentStreamDiagnostics(teamId: string, pipeline: Pipeline, logicHashes: Record<string, string>): Promise<Diagnostic[]> {
  const sinks = sinkLogicHashes(pipeline, logicHashes);
  if (!sinks.size) return [];
  const matches = await prisma().stream.findMany({
    where: { logicHash: { in: [...new Set([...sinks.values()].map((s) => s.hash))] } },
    include: { ownerTeam: true, grants: { where: { teamId } } },
  });
  const out: Diagnostic[] = [];
  for (const [nodeId, { stream, hash }] of sinks) {
    for (const m of matches) {
      if (m.logicHash !== hash || m.name === stream) continue;
      const access = accessOf(m, teamId);
      if (!access) continue;
      const how = access === "owner" ? "your team owns it" : access === "read" ? "your team can read it" : `request access from team "${m.ownerTeam.slug}"`;
      out.push({
        severity: "info",
        code: "duplicate-stream",
        nodeId,
        path: "config.stream",
        message: `Stream "${m.name}" is already produced by the same logic: subscribe to it instead of producing it again (${how}).`,
      });
    }
  }
  return out;
}

/** Records which logic produces each sink stream of a deployed (hence valid) pipeline. */
export async function recordSinkLogic(pipeline: Pipeline, logicHashes: Record<string, string>): Promise<void> {
  for (const { stream, hash } of sinkLogicHashes(pipeline, logicHashes).values()) {
    await prisma().stream.updateMany({ where: { name: stream }, data: { logicHash: hash } });
  }
}
