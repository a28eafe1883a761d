import { z } from "zod";
import { recordAudit } from "@/lib/audit/record";
import { type Principal } from "@/lib/auth/principal";
import { prisma } from "@/lib/db/prisma";
import { AppError, notFound } from "@/lib/errors";
import { hasErrors, type Pipeline } from "@/lib/pipeline";
import { canonicalHash } from "@/lib/compiler";
import { redis } from "@/lib/redis/client";
import { writeControl } from "@/lib/runtime/control";
import { deadLetterStreamName } from "@/lib/runtime/naming";
import { enqueueTasks } from "@/lib/runtime/task-queue";
import { clearLastError } from "@/lib/runtime/task-state";
import { ensureDeadLetterStream } from "@/lib/runtime/dead-letter";
import { recordSinkLogic } from "@/lib/warehouse/duplicates";
import { streamImpact } from "@/lib/warehouse/lineage";
import { loadTeamCatalog } from "./catalog-context";
import { checkPipeline, requirePipeline } from "./pipelines";

export const MAX_PARALLELISM = 64;

export const deployInput = z.object({
  /** Version number to deploy; the latest saved version when omitted. */
  version: z.number().int().positive().optional(),
  parallelism: z.number().int().min(1).max(MAX_PARALLELISM).optional(),
  deliveryGuarantee: z.enum(["at_least_once", "exactly_once"]).optional(),
  /** Drop operator state that cannot carry over (window definitions changed, or parallelism of a stateful pipeline). */
  resetState: z.boolean().default(false),
});
export type DeployInput = z.input<typeof deployInput>;

export const scaleInput = z.object({ parallelism: z.number().int().min(1).max(MAX_PARALLELISM), resetState: z.boolean().default(false) });

/** Window state is keyed by task: it carries over only when every window node's logic and the task count stay the same. */
function stateIncompatibility(prev: Pipeline | undefined, next: Pipeline, prevParallelism: number | undefined, nextParallelism: number): string | undefined {
  const windows = (p: Pipeline) => new Map(p.nodes.filter((n) => n.type === "window").map((n) => [n.id, canonicalHash(p, n.id)]));
  const before = prev ? windows(prev) : new Map<string, string>();
  const after = windows(next);
  if (!before.size) return undefined;
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((id) => before.get(id) !== after.get(id));
  if (changed.length) return `the window state of node(s) ${changed.map((c) => `"${c}"`).join(", ")} cannot carry over to the new logic`;
  if (prevParallelism !== undefined && prevParallelism !== nextParallelism) return `window state is partitioned across ${prevParallelism} task(s) and cannot be redistributed to ${nextParallelism}`;
  return undefined;
}

/**
 * Deploys (or redeploys) a saved version. The pipeline is validated again
 * against today's catalog; tasks of the previous generation stop at a
 * committed point and the new generation continues from the committed offsets.
 */
export async function deploy(principal: Principal, teamSlug: string, name: string, raw: DeployInput) {
  const input = deployInput.parse(raw);
  const { team, pipeline } = await requirePipeline(principal, teamSlug, name, "editor");
  const version = input.version
    ? await prisma().pipelineVersion.findUnique({ where: { pipelineId_version: { pipelineId: pipeline.id, version: input.version } } })
    : await prisma().pipelineVersion.findFirst({ where: { pipelineId: pipeline.id }, orderBy: { version: "desc" } });
  if (!version) throw new AppError(input.version ? "not_found" : "conflict", input.version ? `Version ${input.version} of "${name}" was not found.` : `Pipeline "${name}" has no saved version yet: save one first.`);

  const checked = await checkPipeline(team.id, version.graph);
  if (!checked.pipeline || hasErrors(checked.diagnostics)) {
    throw new AppError("invalid_input", `Version ${version.version} no longer validates against the catalog; fix the errors and save a new version.`, checked.diagnostics);
  }
  const def = checked.pipeline;
  const sinks = def.nodes.filter((n) => n.type === "sink");
  if (!sinks.length) throw new AppError("invalid_input", "A pipeline needs at least one Sink to be deployed (preview works without one).", []);

  const prev = pipeline.deployment;
  const parallelism = input.parallelism ?? prev?.parallelism ?? 1;
  const catalog = await loadTeamCatalog(team.id);
  const sourceStreams = def.nodes.flatMap((n) => (n.type === "source" ? [n.config.stream] : []));
  const maxPartitions = Math.max(...sourceStreams.map((s) => catalog.entries.get(s)?.partitions ?? 1));
  if (parallelism > maxPartitions) {
    throw new AppError("invalid_input", `Parallelism ${parallelism} is more than the ${maxPartitions} partition(s) of the source stream(s): at most ${maxPartitions} task(s) can receive data.`, [{ path: ["parallelism"], message: `at most ${maxPartitions}` }]);
  }
  if (def.nodes.some((n) => n.type === "window") && parallelism > 1) {
    // Keyed window state is correct only if every record of a key reaches the
    // same task; without a repartition stream that means one task.
    throw new AppError("invalid_input", "Pipelines with a Window node run with parallelism 1 in this version (all records of a window key must reach the same task).", [{ path: ["parallelism"], message: "must be 1 for Window pipelines" }]);
  }
  if (prev && !input.resetState) {
    const prevVersion = await prisma().pipelineVersion.findUnique({ where: { id: prev.versionId } });
    const why = stateIncompatibility(prevVersion?.graph as unknown as Pipeline, def, prev.parallelism, parallelism);
    if (why) throw new AppError("conflict", `Refusing to deploy: ${why}. Deploy with resetState to start the windows empty.`);
  }

  await ensureDeadLetterStream(team.id, deadLetterStreamName(team.slug, pipeline.name), pipeline.name);
  const deliveryGuarantee = input.deliveryGuarantee ?? prev?.deliveryGuarantee ?? "at_least_once";
  const deployment = await prisma().$transaction(async (tx) => {
    const d = prev
      ? await tx.deployment.update({
          where: { id: prev.id },
          data: {
            versionId: version.id, parallelism, deliveryGuarantee, desiredState: "running", actualState: "starting", generation: { increment: 1 }, previousParallelism: prev.parallelism, lastError: null,
            ...(input.resetState ? { stateEpoch: { increment: 1 } } : {}),
          },
        })
      : await tx.deployment.create({ data: { pipelineId: pipeline.id, versionId: version.id, parallelism, deliveryGuarantee, desiredState: "running", actualState: "starting", generation: 1, createdById: principal.kind === "user" ? principal.userId : principal.createdById } });
    await recordAudit(principal, { teamId: team.id, action: prev ? "pipeline.redeploy" : "pipeline.deploy", entityType: "deployment", entityId: d.id, details: { version: version.version, parallelism, deliveryGuarantee, resetState: input.resetState } }, tx);
    return d;
  });
  await recordSinkLogic(def, checked.logicHashes ?? {});
  await clearLastError(redis(), deployment.id);
  await writeControl(redis(), deployment.id, { generation: deployment.generation, desired: "running" });
  await enqueueTasks(deployment.id, deployment.generation, parallelism);
  return { deploymentId: deployment.id, version: version.version, parallelism, deliveryGuarantee, generation: deployment.generation };
}

async function requireDeployment(principal: Principal, teamSlug: string, name: string) {
  const { team, pipeline } = await requirePipeline(principal, teamSlug, name, "editor");
  if (!pipeline.deployment) throw new AppError("conflict", `Pipeline "${name}" has not been deployed yet.`);
  return { team, pipeline, deployment: pipeline.deployment };
}

export async function stop(principal: Principal, teamSlug: string, name: string) {
  const { team, deployment } = await requireDeployment(principal, teamSlug, name);
  const d = await prisma().$transaction(async (tx) => {
    const d = await tx.deployment.update({ where: { id: deployment.id }, data: { desiredState: "stopped", actualState: "stopping", generation: { increment: 1 }, previousParallelism: deployment.parallelism } });
    await recordAudit(principal, { teamId: team.id, action: "pipeline.stop", entityType: "deployment", entityId: d.id }, tx);
    return d;
  });
  await writeControl(redis(), d.id, { generation: d.generation, desired: "stopped" });
  // What stops flowing: the consumers of every stream this pipeline writes.
  const graph = (await prisma().pipelineVersion.findUnique({ where: { id: deployment.versionId } }))?.graph as unknown as Pipeline | undefined;
  const sinks = [...new Set((graph?.nodes ?? []).flatMap((n) => (n.type === "sink" ? [n.config.stream] : [])))];
  const impact = await Promise.all(sinks.map(async (s) => ({ stream: s, ...(await streamImpact(s)) })));
  return { deploymentId: d.id, desiredState: d.desiredState, generation: d.generation, impact };
}

export async function resume(principal: Principal, teamSlug: string, name: string) {
  const { deployment } = await requireDeployment(principal, teamSlug, name);
  const version = await prisma().pipelineVersion.findUniqueOrThrow({ where: { id: deployment.versionId } });
  return deploy(principal, teamSlug, name, { version: version.version, parallelism: deployment.parallelism, deliveryGuarantee: deployment.deliveryGuarantee });
}

export async function scale(principal: Principal, teamSlug: string, name: string, raw: z.input<typeof scaleInput>) {
  const input = scaleInput.parse(raw);
  const { deployment } = await requireDeployment(principal, teamSlug, name);
  const version = await prisma().pipelineVersion.findUniqueOrThrow({ where: { id: deployment.versionId } });
  return deploy(principal, teamSlug, name, { version: version.version, parallelism: input.parallelism, resetState: input.resetState });
}

export { notFound };
