import { z } from "zod";
import { recordAudit } from "@/lib/audit/record";
import { type Principal } from "@/lib/auth/principal";
import { prisma } from "@/lib/db/prisma";
import { AppError, notFound } from "@/lib/errors";
import { hasErrors, type Pipeline } from "@/lib/pipeline";
import { canonicalHash } from "@/lib/compiler";
import { redis } from "@/lib/redis/client";
import { writeControl } from "@/lib/runtime/control";
import { changelogTopic, deadLetterStreamName, stageChangelogTopic } from "@/lib/runtime/naming";
import { ensureRepartitionStream } from "@/lib/runtime/internal-streams";
import { deployedStages } from "@/lib/runtime/stages";
import { enqueueTasks } from "@/lib/runtime/task-queue";
import { clearLastError } from "@/lib/runtime/task-state";
import { ensureDeadLetterStream, requirePlatformTopic } from "@/lib/runtime/dead-letter";
import { recordSinkLogic } from "@/lib/warehouse/duplicates";
import { streamImpact } from "@/lib/warehouse/lineage";
import { loadTeamCatalog } from "./catalog-context";
import { checkPipeline, requirePipeline } from "./pipelines";

export const MAX_PARALLELISM = 64;

/**
 * Keyed scale-out: a stateful pipeline's key groups — the partition count of
 * its repartition streams and window changelogs, so the most tasks a Window
 * stage can have — fixed when it is first deployed (docs/runtime.md
 * "Stages"). 32 leaves room to grow well past this machine's cores while a
 * key group stays a small unit of state to move on rescale.
 */
export const DEFAULT_MAX_PARALLELISM = 32;
export const MAX_MAX_PARALLELISM = 256;

export const deployInput = z.object({
  /** Version number to deploy; the latest saved version when omitted. */
  version: z.number().int().positive().optional(),
  parallelism: z.number().int().min(1).max(MAX_PARALLELISM).optional(),
  deliveryGuarantee: z.enum(["at_least_once", "exactly_once"]).optional(),
  /** Drop operator state that cannot carry over (window definitions changed, or parallelism of a stateful pipeline in the earlier state layout). */
  resetState: z.boolean().default(false),
  /** Key groups of a stateful pipeline (the most tasks a Window stage can have): set at its first deploy or with resetState; 32 by default. */
  maxParallelism: z.number().int().min(1).max(MAX_MAX_PARALLELISM).optional(),
});
export type DeployInput = z.input<typeof deployInput>;

export const scaleInput = z.object({ parallelism: z.number().int().min(1).max(MAX_PARALLELISM), resetState: z.boolean().default(false) });

/**
 * Window state carries over only when every window node's logic stays the
 * same; in the earlier state layout (one changelog partition per task, no
 * key groups) also only when the task count does.
 */
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
  const prevVersion = prev ? await prisma().pipelineVersion.findUnique({ where: { id: prev.versionId } }) : null;
  const prevGraph = prevVersion?.graph as unknown as Pipeline | undefined;
  const stateful = def.nodes.some((n) => n.type === "window");
  const prevStateful = !!prevGraph?.nodes?.some((n) => n.type === "window");
  // Key groups: kept from the previous deployment, fixed at the first deploy of a stateful pipeline (or a reset).
  // A deployment made before key groups existed keeps its one-partition-per-task state until a reset.
  let maxParallelism: number | null = null;
  if (stateful) {
    const keepLegacy = !!prev && prev.maxParallelism === null && prevStateful && !input.resetState;
    const keep = !!prev && prev.maxParallelism !== null && !input.resetState;
    if (keep && input.maxParallelism !== undefined && input.maxParallelism !== prev!.maxParallelism) {
      throw new AppError("conflict", `The max parallelism of "${name}" is ${prev!.maxParallelism}, fixed when it was first deployed (its window state is split into that many key groups). Deploy with resetState to change it.`);
    }
    maxParallelism = keepLegacy ? null : keep ? prev!.maxParallelism : (input.maxParallelism ?? DEFAULT_MAX_PARALLELISM);
  }
  let split = deployedStages(def, pipeline.id, catalog.ctx, maxParallelism);
  if (split.diagnostics.length) {
    // A graph that cannot be cut into stages runs as one stage with one task, as before stages existed.
    if (parallelism > 1 || (prev && prev.maxParallelism !== null && prevStateful && !input.resetState)) {
      throw new AppError("invalid_input", `Version ${version.version} cannot run with more than one task: ${split.diagnostics[0].message}.`, split.diagnostics);
    }
    maxParallelism = null;
    split = deployedStages(def, pipeline.id, catalog.ctx, null);
  }
  if (stateful && maxParallelism === null && parallelism > 1) {
    throw new AppError("conflict", `The window state of "${name}" is kept per task (it was deployed before keyed scale-out), so it runs with parallelism 1. Deploy with resetState to move it to key groups and scale it.`, [{ path: ["parallelism"], message: "must be 1 until redeployed with resetState" }]);
  }
  if (maxParallelism !== null && parallelism > maxParallelism) {
    throw new AppError("invalid_input", `Parallelism ${parallelism} is more than the max parallelism ${maxParallelism} of "${name}": its window state is split into ${maxParallelism} key groups (the partitions of its repartition streams), so at most ${maxParallelism} tasks can own one.`, [{ path: ["parallelism"], message: `at most ${maxParallelism}` }]);
  }
  if (prev && !input.resetState) {
    const why = stateIncompatibility(prevGraph, def, prev.parallelism, maxParallelism === null ? parallelism : prev.parallelism);
    if (why) throw new AppError("conflict", `Refusing to deploy: ${why}. Deploy with resetState to start the windows empty.`);
  }
  const stages = split.stages.map((s) => s.id);

  if (stateful) {
    // Every window-state topic this deployment may write: the task layout's and each Window stage's.
    const epoch = prev ? prev.stateEpoch + (input.resetState ? 1 : 0) : 0;
    const stateTopics = [changelogTopic(pipeline.id, epoch), ...split.stages.filter((s) => s.input !== undefined).map((s) => stageChangelogTopic(pipeline.id, s.id, epoch))];
    for (const topic of stateTopics) await requirePlatformTopic(team.id, topic, "state");
  }
  await ensureDeadLetterStream(team.id, deadLetterStreamName(team.slug, pipeline.name), pipeline.name);
  for (const stage of split.stages) {
    for (const r of stage.repartitions.values()) {
      await ensureRepartitionStream({ teamId: team.id, pipelineId: pipeline.id, pipelineName: pipeline.name, windowNodeId: r.window, name: r.stream, schema: r.schema, partitions: maxParallelism! });
    }
  }
  const deliveryGuarantee = input.deliveryGuarantee ?? prev?.deliveryGuarantee ?? "at_least_once";
  const deployment = await prisma().$transaction(async (tx) => {
    const d = prev
      ? await tx.deployment.update({
          where: { id: prev.id },
          data: {
            versionId: version.id, parallelism, deliveryGuarantee, desiredState: "running", actualState: "starting", generation: { increment: 1 }, previousParallelism: prev.parallelism, lastError: null,
            maxParallelism, stages, previousStages: prev.stages,
            ...(input.resetState ? { stateEpoch: { increment: 1 } } : {}),
          },
        })
      : await tx.deployment.create({ data: { pipelineId: pipeline.id, versionId: version.id, parallelism, deliveryGuarantee, desiredState: "running", actualState: "starting", generation: 1, maxParallelism, stages, createdById: principal.kind === "user" ? principal.userId : principal.createdById } });
    await recordAudit(principal, { teamId: team.id, action: prev ? "pipeline.redeploy" : "pipeline.deploy", entityType: "deployment", entityId: d.id, details: { version: version.version, parallelism, deliveryGuarantee, resetState: input.resetState, maxParallelism, stages } }, tx);
    return d;
  });
  await recordSinkLogic(def, checked.logicHashes ?? {});
  await clearLastError(redis(), deployment.id);
  await writeControl(redis(), deployment.id, { generation: deployment.generation, desired: "running" });
  await enqueueTasks(deployment.id, deployment.generation, parallelism, stages);
  return { deploymentId: deployment.id, version: version.version, parallelism, deliveryGuarantee, generation: deployment.generation, maxParallelism, stages };
}

async function requireDeployment(principal: Principal, teamSlug: string, name: string) {
  const { team, pipeline } = await requirePipeline(principal, teamSlug, name, "editor");
  if (!pipeline.deployment) throw new AppError("conflict", `Pipeline "${name}" has not been deployed yet.`);
  return { team, pipeline, deployment: pipeline.deployment };
}

export async function stop(principal: Principal, teamSlug: string, name: string) {
  const { team, deployment } = await requireDeployment(principal, teamSlug, name);
  const d = await prisma().$transaction(async (tx) => {
    const d = await tx.deployment.update({ where: { id: deployment.id }, data: { desiredState: "stopped", actualState: "stopping", generation: { increment: 1 }, previousParallelism: deployment.parallelism, previousStages: deployment.stages } });
    await recordAudit(principal, { teamId: team.id, action: "pipeline.stop", entityType: "deployment", entityId: d.id }, tx);
    return d;
  });
  await writeControl(redis(), d.id, { generation: d.generation, desired: "stopped" });
  // What stops flowing: the consumers of every stream this pipeline writes — for the team's own streams only, as
  // the impact route answers. A version deployed before Sinks were held to the team's streams may name another
  // team's (even private) stream: its readers are not this team's business.
  const graph = (await prisma().pipelineVersion.findUnique({ where: { id: deployment.versionId } }))?.graph as unknown as Pipeline | undefined;
  const named = [...new Set((graph?.nodes ?? []).flatMap((n) => (n.type === "sink" ? [n.config.stream] : [])))];
  const owned = new Set((await prisma().stream.findMany({ where: { name: { in: named }, ownerTeamId: team.id }, select: { name: true } })).map((s) => s.name));
  const impact = await Promise.all(named.filter((s) => owned.has(s)).map(async (s) => ({ stream: s, ...(await streamImpact(s)) })));
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
