import type { Prisma } from "@prisma/client";
import { Prisma as P } from "@prisma/client";
import { z } from "zod";
import { recordAudit } from "@/lib/audit/record";
import { actorUserId, type Principal } from "@/lib/auth/principal";
import { prisma } from "@/lib/db/prisma";
import { AppError } from "@/lib/errors";
import { getPipeline, pipelineName, requirePipeline, type PipelineSummary } from "./pipelines";

export const duplicatePipelineInput = z.object({ name: pipelineName, description: z.string().max(5_000).optional() });

/**
 * Copies a pipeline under a new name in the same team: its latest version
 * becomes version 1 of the copy (the history stays with the original, so the
 * copy's version list starts fresh). The copy is never deployed; deploying it
 * as-is would write the same sink streams twice, which the validator reports.
 */
export async function duplicatePipeline(principal: Principal, teamSlug: string, name: string, raw: z.input<typeof duplicatePipelineInput>): Promise<PipelineSummary> {
  const input = duplicatePipelineInput.parse(raw);
  const { team, pipeline } = await requirePipeline(principal, teamSlug, name, "editor");
  const latest = pipeline.versions[0];
  try {
    const copy = await prisma().$transaction(async (tx) => {
      const p = await tx.pipeline.create({ data: { teamId: team.id, name: input.name, description: input.description ?? pipeline.description, createdById: actorUserId(principal) } });
      if (latest) {
        await tx.pipelineVersion.create({
          data: { pipelineId: p.id, version: 1, graph: latest.graph as Prisma.InputJsonValue, message: `Copied from ${pipeline.name} v${latest.version}`, authorId: actorUserId(principal) },
        });
      }
      await recordAudit(principal, { teamId: team.id, action: "pipeline.duplicate", entityType: "pipeline", entityId: p.id, details: { name: p.name, from: pipeline.name, fromVersion: latest?.version ?? null } }, tx);
      return p;
    });
    return await getPipeline(principal, teamSlug, copy.name);
  } catch (e) {
    if (e instanceof P.PrismaClientKnownRequestError && e.code === "P2002") throw new AppError("conflict", `Team "${teamSlug}" already has a pipeline named "${input.name}": choose another name for the copy.`);
    throw e;
  }
}
