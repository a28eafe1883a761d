import { prisma } from "@/lib/db/prisma";
import type { Diagnostic, Pipeline, StreamSchema } from "@/lib/pipeline";
import { SINK_STREAM_MISSING, type RegisteredFunction, type ValidationContext } from "@/lib/compiler";
import { accessOf, type StreamAccess } from "@/lib/warehouse/access";

export interface CatalogEntry {
  name: string;
  topic: string;
  partitions: number;
  ownerTeamSlug: string;
  access: StreamAccess;
  schema: StreamSchema;
}

export interface TeamCatalog {
  /** For the core validator: streams this team may read or owns (schema known). */
  ctx: ValidationContext;
  entries: Map<string, CatalogEntry>;
  /** Access problems the pure validator cannot know: reading without a grant, writing another team's stream. */
  accessDiagnostics(pipeline: Pipeline): Diagnostic[];
}

/**
 * Snapshot of the warehouse catalog (and the team's function registry) as one
 * team sees it, in the shape the pure pipeline validator takes. Loaded once per
 * validation/compile.
 */
export async function loadTeamCatalog(teamId: string): Promise<TeamCatalog> {
  const rows = await prisma().stream.findMany({
    // A pipeline reads and writes its internal streams itself (lib/runtime/stages.ts); no node may name one.
    where: { internalPipelineId: null, OR: [{ ownerTeamId: teamId }, { visibility: { in: ["team", "public"] } }, { grants: { some: { teamId } } }] },
    include: { ownerTeam: true, schemas: { orderBy: { version: "desc" }, take: 1 }, grants: { where: { teamId } } },
  });
  const entries = new Map<string, CatalogEntry>();
  for (const s of rows) {
    const access = accessOf(s, teamId);
    if (!access) continue;
    entries.set(s.name, {
      name: s.name,
      topic: s.topic,
      partitions: s.partitions,
      ownerTeamSlug: s.ownerTeam.slug,
      access,
      schema: (s.schemas[0]?.definition ?? []) as unknown as StreamSchema,
    });
  }
  const fns = await prisma().function.findMany({ where: { teamId }, include: { versions: true } });
  const functions = new Map(fns.map((f) => [f.name, f.versions.map((v): RegisteredFunction => ({ name: f.name, version: v.version, source: v.source, form: v.form }))]));
  const lookupFunction = (name: string, version?: number) => {
    const versions = functions.get(name);
    if (!versions?.length) return undefined;
    return version === undefined ? versions.reduce((a, b) => (b.version > a.version ? b : a)) : versions.find((v) => v.version === version);
  };
  const readable = (name: string) => {
    const e = entries.get(name);
    return e && e.access !== "see" ? { schema: e.schema } : undefined;
  };
  return {
    entries,
    ctx: {
      streams: readable,
      streamNames: () => [...entries.values()].filter((e) => e.access !== "see").map((e) => e.name),
      functions: lookupFunction,
      functionNames: () => functions.keys(),
    },
    accessDiagnostics(pipeline) {
      const out: Diagnostic[] = [];
      pipeline.nodes.forEach((n, i) => {
        if (n.type !== "source" && n.type !== "sink") return;
        const e = entries.get(n.config.stream);
        if (!e) {
          // An unknown Source is reported by the validator (with "did you mean"). A Sink's stream must exist
          // and be the team's before anything can run; another team's private stream reads exactly like a
          // missing one, so its name is not confirmed.
          if (n.type === "sink") {
            out.push({ severity: "error", code: SINK_STREAM_MISSING, nodeId: n.id, path: `nodes[${i}].config.stream`, message: `Stream "${n.config.stream}" does not exist (or your team cannot see it): create it as one of your team's streams first, or pick an existing one.` });
          }
          return;
        }
        if (n.type === "source" && e.access === "see") {
          out.push({ severity: "error", code: "stream-access", nodeId: n.id, path: `nodes[${i}].config.stream`, message: `Your team has no read access to "${e.name}": request access from team "${e.ownerTeamSlug}", or use another stream.` });
        }
        if (n.type === "sink" && e.access !== "owner") {
          out.push({ severity: "error", code: "stream-owner", nodeId: n.id, path: `nodes[${i}].config.stream`, message: `"${e.name}" belongs to team "${e.ownerTeamSlug}": only its owner team's pipelines write to it. Create a stream of your own as the sink.` });
        }
      });
      return out;
    },
  };
}
