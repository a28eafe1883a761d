import { prisma } from "@/lib/db/prisma";
import { canonicalHash, type Diagnostic, type Pipeline } from "@/lib/pipeline";
import { accessOf } from "./access";

/** Canonical logic hash of each Sink's upstream (node id → hash). */
export function sinkLogicHashes(pipeline: Pipeline): Map<string, { stream: string; hash: string }> {
  return new Map(pipeline.nodes.flatMap((n) => (n.type === "sink" ? [[n.id, { stream: n.config.stream, hash: canonicalHash(pipeline, n.id) }] as const] : [])));
}

/**
 * "This stream already exists": for every Sink whose upstream logic (same
 * sources, same operators, regardless of node ids, layout or field order) has
 * the same canonical hash as a stream some pipeline already produces, an info
 * diagnostic naming that stream — only streams the team can see, so a
 * private stream of another team is never revealed.
 */
export async function equivalentStreamDiagnostics(teamId: string, pipeline: Pipeline): Promise<Diagnostic[]> {
  const sinks = sinkLogicHashes(pipeline);
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

/** Records which logic produces each sink stream of a deployed pipeline. */
export async function recordSinkLogic(pipeline: Pipeline): Promise<void> {
  for (const { stream, hash } of sinkLogicHashes(pipeline).values()) {
    await prisma().stream.updateMany({ where: { name: stream }, data: { logicHash: hash } });
  }
}
