import type { Prisma } from "@prisma/client";
import { Prisma as P } from "@prisma/client";
import { z } from "zod";
import { deletePipelineRuntimeData } from "@/lib/runtime/internal-streams";
import { recordAudit } from "@/lib/audit/record";
import { actorUserId, type Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";
import { AppError, notFound } from "@/lib/errors";
import { hasErrors, parsePipeline, type Diagnostic, type Pipeline } from "@/lib/pipeline";
import { validatePipeline } from "@/lib/compiler";
import { equivalentStreamDiagnostics } from "@/lib/warehouse/duplicates";
import { loadTeamCatalog } from "./catalog-context";

export const pipelineName = z
  .string()
  .trim()
  .min(2)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, "use lowercase letters, digits, _ and - (e.g. clicks-cleaning)");

export const saveVersionInput = z.object({ pipeline: z.unknown(), message: z.string().max(1_000).default("") });
/** `pipeline` (and `message`) given: the pipeline is created with it as version 1, or not at all. */
export const createPipelineInput = z.object({ name: pipelineName, description: z.string().max(5_000).default(""), pipeline: z.unknown().optional(), message: saveVersionInput.shape.message });
export const applyPipelineInput = createPipelineInput.extend({ description: z.string().max(5_000).optional(), pipeline: z.unknown() });

export interface PipelineSummary {
  id: string;
  name: string;
  description: string;
  team: string;
  latestVersion: number | null;
  deployment: { id: string; version: number; desiredState: string; actualState: string; parallelism: number; maxParallelism: number | null; stages: string[]; deliveryGuarantee: string; generation: number } | null;
  createdAt: Date;
  updatedAt: Date;
}

type PipelineRow = Prisma.PipelineGetPayload<{ include: { team: true; versions: true; deployment: { include: { version: true } } } }>;

function summary(p: PipelineRow): PipelineSummary {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    team: p.team.slug,
    latestVersion: p.versions[0]?.version ?? null,
    deployment: p.deployment
      ? { id: p.deployment.id, version: p.deployment.version.version, desiredState: p.deployment.desiredState, actualState: p.deployment.actualState, parallelism: p.deployment.parallelism, maxParallelism: p.deployment.maxParallelism, stages: p.deployment.stages, deliveryGuarantee: p.deployment.deliveryGuarantee, generation: p.deployment.generation }
      : null,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

const withRelations = {
  team: true,
  versions: { orderBy: { version: "desc" as const }, take: 1 },
  deployment: { include: { version: true } },
} satisfies Prisma.PipelineInclude;

export async function createPipeline(principal: Principal, teamSlug: string, raw: z.input<typeof createPipelineInput>): Promise<PipelineSummary> {
  const input = createPipelineInput.parse(raw);
  if (input.pipeline !== undefined) {
    await applyPipeline(principal, teamSlug, { ...input, pipeline: input.pipeline }, { createOnly: true });
    return getPipeline(principal, teamSlug, input.name);
  }
  const { team } = await requireTeamRole(principal, teamSlug, "editor");
  try {
    const p = await prisma().$transaction(async (tx) => {
      const p = await tx.pipeline.create({ data: { teamId: team.id, name: input.name, description: input.description, createdById: actorUserId(principal) }, include: withRelations });
      await recordAudit(principal, { teamId: team.id, action: "pipeline.create", entityType: "pipeline", entityId: p.id, details: { name: p.name } }, tx);
      return p;
    });
    return summary(p);
  } catch (e) {
    throw nameTaken(e, teamSlug, input.name);
  }
}

const nameConflict = (teamSlug: string, name: string) => new AppError("conflict", `Team "${teamSlug}" already has a pipeline named "${name}".`);

/** A unique-name violation as the conflict the user can act on; anything else unchanged. */
function nameTaken(e: unknown, teamSlug: string, name: string): unknown {
  return e instanceof P.PrismaClientKnownRequestError && e.code === "P2002" ? nameConflict(teamSlug, name) : e;
}

export async function listPipelines(principal: Principal, teamSlug: string): Promise<PipelineSummary[]> {
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const rows = await prisma().pipeline.findMany({ where: { teamId: team.id }, include: withRelations, orderBy: { name: "asc" } });
  return rows.map(summary);
}

/** Loads a team's pipeline by name (or id) after checking the caller's role. */
export async function requirePipeline(principal: Principal, teamSlug: string, name: string, role: "viewer" | "editor" | "owner") {
  const { team } = await requireTeamRole(principal, teamSlug, role);
  const p = await prisma().pipeline.findFirst({ where: { teamId: team.id, OR: [{ name }, { id: name }] }, include: withRelations });
  if (!p) throw notFound(`Pipeline "${name}" in team "${teamSlug}"`);
  return { team, pipeline: p };
}

export async function getPipeline(principal: Principal, teamSlug: string, name: string): Promise<PipelineSummary> {
  return summary((await requirePipeline(principal, teamSlug, name, "viewer")).pipeline);
}

export async function deletePipeline(principal: Principal, teamSlug: string, name: string): Promise<void> {
  const { team, pipeline } = await requirePipeline(principal, teamSlug, name, "editor");
  if (pipeline.deployment && pipeline.deployment.desiredState === "running") {
    throw new AppError("conflict", `Pipeline "${name}" is deployed: stop it first (\`sluice pipeline stop ${name}\`).`);
  }
  await prisma().$transaction(async (tx) => {
    await tx.pipeline.delete({ where: { id: pipeline.id } });
    await recordAudit(principal, { teamId: team.id, action: "pipeline.delete", entityType: "pipeline", entityId: pipeline.id, details: { name } }, tx);
  });
  // What the runtime created for it goes with it: repartition streams and window-state changelogs.
  await deletePipelineRuntimeData(pipeline.id);
}

export interface ValidatedPipeline {
  pipeline: Pipeline;
  diagnostics: Diagnostic[];
  schemas: Record<string, unknown>;
}

/**
 * Parses and validates a pipeline definition against the team's view of the
 * catalog. Returns diagnostics (never throws for a bad pipeline); `pipeline`
 * is undefined when the JSON does not even parse.
 */
export async function checkPipeline(teamId: string, json: unknown): Promise<{ pipeline?: Pipeline; diagnostics: Diagnostic[]; schemas: Record<string, unknown>; logicHashes?: Record<string, string> }> {
  const parsed = parsePipeline(json);
  if (!("pipeline" in parsed) || !parsed.pipeline) return { diagnostics: (parsed as { diagnostics: Diagnostic[] }).diagnostics, schemas: {} };
  const catalog = await loadTeamCatalog(teamId);
  const result = validatePipeline(parsed.pipeline, catalog.ctx);
  // Only a pipeline without errors has logic hashes (a cycle, e.g. through a Union, has none): nothing to compare before that.
  const duplicates = result.logicHashes ? await equivalentStreamDiagnostics(teamId, parsed.pipeline, result.logicHashes) : [];
  return { pipeline: parsed.pipeline, diagnostics: [...catalog.accessDiagnostics(parsed.pipeline), ...result.diagnostics, ...duplicates], schemas: result.schemas, logicHashes: result.logicHashes };
}

/** A definition that validates, or a 422 with every diagnostic (nothing is written). */
async function validDefinition(teamId: string, definition: unknown) {
  const checked = await checkPipeline(teamId, definition);
  if (!checked.pipeline || hasErrors(checked.diagnostics)) {
    throw new AppError("invalid_input", `The pipeline has ${checked.diagnostics.filter((d) => d.severity === "error").length} error(s); fix them before saving.`, checked.diagnostics);
  }
  return { pipeline: checked.pipeline, warnings: checked.diagnostics.filter((d) => d.severity !== "error") };
}

/** Appends the next immutable version of a pipeline inside the caller's transaction. */
async function insertVersion(tx: Prisma.TransactionClient, principal: Principal, teamId: string, pipelineId: string, graph: Pipeline, message: string) {
  const last = await tx.pipelineVersion.findFirst({ where: { pipelineId }, orderBy: { version: "desc" } });
  const v = await tx.pipelineVersion.create({
    data: { pipelineId, version: (last?.version ?? 0) + 1, graph: graph as unknown as Prisma.InputJsonValue, message, authorId: actorUserId(principal) },
  });
  await tx.pipeline.update({ where: { id: pipelineId }, data: { updatedAt: new Date() } });
  await recordAudit(principal, { teamId, action: "pipeline.version", entityType: "pipeline", entityId: pipelineId, details: { version: v.version } }, tx);
  return v;
}

const versionView = (v: { version: number; id: string; createdAt: Date; message: string }, warnings: Diagnostic[]) => ({ version: v.version, id: v.id, createdAt: v.createdAt, message: v.message, warnings });

/** Saves an immutable new version after validation; errors → 422 with every diagnostic. */
export async function saveVersion(principal: Principal, teamSlug: string, name: string, raw: z.input<typeof saveVersionInput>) {
  const input = saveVersionInput.parse(raw);
  const { team, pipeline } = await requirePipeline(principal, teamSlug, name, "editor");
  const valid = await validDefinition(team.id, input.pipeline);
  const version = await prisma().$transaction((tx) => insertVersion(tx, principal, team.id, pipeline.id, valid.pipeline, input.message));
  return versionView(version, valid.warnings);
}

/**
 * `sluice pipeline apply` (and creating a pipeline with a definition over the
 * API): saves `pipeline` as the next version of pipeline `name`, creating the
 * pipeline with it as version 1 when there is none of that name. Validation
 * comes first and the pipeline, its first version and their audit entries are
 * written in one transaction, so a definition with errors (or a failure part
 * way) leaves no empty, undeployable pipeline behind. `createOnly` refuses an
 * existing name instead of adding a version to it.
 */
export async function applyPipeline(principal: Principal, teamSlug: string, raw: z.input<typeof applyPipelineInput>, options: { createOnly?: boolean } = {}) {
  const input = applyPipelineInput.parse(raw);
  const { team } = await requireTeamRole(principal, teamSlug, "editor");
  const existing = await prisma().pipeline.findUnique({ where: { teamId_name: { teamId: team.id, name: input.name } } });
  if (existing && options.createOnly) throw nameConflict(teamSlug, input.name);
  const valid = await validDefinition(team.id, input.pipeline);
  try {
    const version = await prisma().$transaction(async (tx) => {
      let pipelineId = existing?.id;
      if (!pipelineId) {
        const p = await tx.pipeline.create({ data: { teamId: team.id, name: input.name, description: input.description ?? "", createdById: actorUserId(principal) } });
        await recordAudit(principal, { teamId: team.id, action: "pipeline.create", entityType: "pipeline", entityId: p.id, details: { name: p.name } }, tx);
        pipelineId = p.id;
      }
      return insertVersion(tx, principal, team.id, pipelineId, valid.pipeline, input.message);
    });
    return { created: !existing, pipeline: input.name, ...versionView(version, valid.warnings) };
  } catch (e) {
    // Created by someone else between the lookup and the insert: say so rather than retrying blindly.
    throw nameTaken(e, teamSlug, input.name);
  }
}

export async function listVersions(principal: Principal, teamSlug: string, name: string) {
  const { pipeline } = await requirePipeline(principal, teamSlug, name, "viewer");
  const rows = await prisma().pipelineVersion.findMany({ where: { pipelineId: pipeline.id }, include: { author: true }, orderBy: { version: "desc" } });
  return rows.map((v) => ({ version: v.version, message: v.message, author: v.author ? { name: v.author.name, email: v.author.email } : null, createdAt: v.createdAt }));
}

export async function getVersion(principal: Principal, teamSlug: string, name: string, version: number) {
  const { pipeline } = await requirePipeline(principal, teamSlug, name, "viewer");
  const v = await prisma().pipelineVersion.findUnique({ where: { pipelineId_version: { pipelineId: pipeline.id, version } }, include: { author: true } });
  if (!v) throw notFound(`Version ${version} of "${name}"`);
  return { version: v.version, message: v.message, pipeline: v.graph, author: v.author ? { name: v.author.name, email: v.author.email } : null, createdAt: v.createdAt };
}
