import type { Prisma } from "@prisma/client";
import { Prisma as P } from "@prisma/client";
import { z } from "zod";
import { recordAudit } from "@/lib/audit/record";
import { actorUserId, type Principal } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";
import { AppError, notFound } from "@/lib/errors";
import { hasErrors, parsePipeline, validatePipeline, type Diagnostic, type Pipeline } from "@/lib/pipeline";
import { equivalentStreamDiagnostics } from "@/lib/warehouse/duplicates";
import { loadTeamCatalog } from "./catalog-context";

export const pipelineName = z
  .string()
  .trim()
  .min(2)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, "use lowercase letters, digits, _ and - (e.g. clicks-cleaning)");

export const createPipelineInput = z.object({ name: pipelineName, description: z.string().max(5_000).default("") });
export const saveVersionInput = z.object({ pipeline: z.unknown(), message: z.string().max(1_000).default("") });

export interface PipelineSummary {
  id: string;
  name: string;
  description: string;
  team: string;
  latestVersion: number | null;
  deployment: { id: string; version: number; desiredState: string; actualState: string; parallelism: number; deliveryGuarantee: string; generation: number } | null;
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
      ? { id: p.deployment.id, version: p.deployment.version.version, desiredState: p.deployment.desiredState, actualState: p.deployment.actualState, parallelism: p.deployment.parallelism, deliveryGuarantee: p.deployment.deliveryGuarantee, generation: p.deployment.generation }
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
  const { team } = await requireTeamRole(principal, teamSlug, "editor");
  try {
    const p = await prisma().$transaction(async (tx) => {
      const p = await tx.pipeline.create({ data: { teamId: team.id, name: input.name, description: input.description, createdById: actorUserId(principal) }, include: withRelations });
      await recordAudit(principal, { teamId: team.id, action: "pipeline.create", entityType: "pipeline", entityId: p.id, details: { name: p.name } }, tx);
      return p;
    });
    return summary(p);
  } catch (e) {
    if (e instanceof P.PrismaClientKnownRequestError && e.code === "P2002") throw new AppError("conflict", `Team "${teamSlug}" already has a pipeline named "${input.name}".`);
    throw e;
  }
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
export async function checkPipeline(teamId: string, json: unknown): Promise<{ pipeline?: Pipeline; diagnostics: Diagnostic[]; schemas: Record<string, unknown> }> {
  const parsed = parsePipeline(json);
  if (!("pipeline" in parsed) || !parsed.pipeline) return { diagnostics: (parsed as { diagnostics: Diagnostic[] }).diagnostics, schemas: {} };
  const catalog = await loadTeamCatalog(teamId);
  const result = validatePipeline(parsed.pipeline, catalog.ctx);
  const duplicates = await equivalentStreamDiagnostics(teamId, parsed.pipeline);
  return { pipeline: parsed.pipeline, diagnostics: [...catalog.accessDiagnostics(parsed.pipeline), ...result.diagnostics, ...duplicates], schemas: result.schemas };
}

/** Saves an immutable new version after validation; errors → 422 with every diagnostic. */
export async function saveVersion(principal: Principal, teamSlug: string, name: string, raw: z.input<typeof saveVersionInput>) {
  const input = saveVersionInput.parse(raw);
  const { team, pipeline } = await requirePipeline(principal, teamSlug, name, "editor");
  const checked = await checkPipeline(team.id, input.pipeline);
  if (!checked.pipeline || hasErrors(checked.diagnostics)) {
    throw new AppError("invalid_input", `The pipeline has ${checked.diagnostics.filter((d) => d.severity === "error").length} error(s); fix them before saving.`, checked.diagnostics);
  }
  const version = await prisma().$transaction(async (tx) => {
    const last = await tx.pipelineVersion.findFirst({ where: { pipelineId: pipeline.id }, orderBy: { version: "desc" } });
    const v = await tx.pipelineVersion.create({
      data: { pipelineId: pipeline.id, version: (last?.version ?? 0) + 1, graph: checked.pipeline as unknown as Prisma.InputJsonValue, message: input.message, authorId: actorUserId(principal) },
    });
    await tx.pipeline.update({ where: { id: pipeline.id }, data: { updatedAt: new Date() } });
    await recordAudit(principal, { teamId: team.id, action: "pipeline.version", entityType: "pipeline", entityId: pipeline.id, details: { version: v.version } }, tx);
    return v;
  });
  return { version: version.version, id: version.id, createdAt: version.createdAt, message: version.message, warnings: checked.diagnostics.filter((d) => d.severity !== "error") };
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
