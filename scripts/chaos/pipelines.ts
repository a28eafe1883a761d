import type { Principal } from "@/lib/auth/principal";
import { prisma } from "@/lib/db/prisma";
import { deploy, scale } from "@/lib/pipelines/deployments";
import { createPipeline, saveVersion } from "@/lib/pipelines/pipelines";
import { pipelineStatus } from "@/lib/pipelines/status";
import { consumerGroupId, deadLetterStreamName, MAIN_STAGE_ID, repartitionStreamName, stageConsumerGroupId } from "@/lib/runtime/naming";
import { createTeam } from "@/lib/teams/teams";
import { createUser } from "@/lib/users/create-user";
import { createStream } from "@/lib/warehouse/streams";
import { chaosPipelines, SOURCES, type ChaosPipeline } from "./workload";

/**
 * Creates the run's team, streams and pipelines and deploys them, through the
 * same domain functions the REST API and the CLI call (so validation, audit
 * and the deploy path are the product's own).
 */
export const TEAM = "chaos";

export interface DeployedPipeline {
  spec: ChaosPipeline;
  pipelineId: string;
  groupId: string;
  sourceTopics: string[];
  deadLetterTopic: string;
  parallelism: number;
  /** Stages after the main one (one per Window: keyed scale-out), each with its consumer group and the repartition stream it reads. */
  stages: { stage: string; groupId: string; topic: string }[];
}

export interface ChaosTeam {
  principal: Principal;
  teamId: string;
  pipelines: DeployedPipeline[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function setUpPipelines(): Promise<ChaosTeam> {
  const user = await createUser({ email: "chaos@example.test", name: "Chaos", password: "a long chaos password" });
  const principal: Principal = { kind: "user", userId: user.id, email: user.email, name: user.name };
  const team = await createTeam(principal, { name: "Chaos", slug: TEAM });
  const specs = chaosPipelines();
  for (const s of SOURCES) {
    await createStream(principal, TEAM, { name: s.name, layer: "ODS", partitions: s.partitions, retentionMs: null, schema: s.schema });
  }
  for (const p of specs) {
    for (const sink of p.sinks) {
      await createStream(principal, TEAM, { name: sink.name, layer: sink.name.startsWith("dws.") ? "DWS" : "DWD", partitions: 1, retentionMs: null, schema: sink.schema });
    }
  }
  const pipelines: DeployedPipeline[] = [];
  for (const p of specs) {
    const created = await createPipeline(principal, TEAM, { name: p.name });
    await saveVersion(principal, TEAM, p.name, { pipeline: p.definition, message: "chaos run" });
    const d = await deploy(principal, TEAM, p.name, { parallelism: p.parallelism, deliveryGuarantee: p.guarantee });
    const stages = d.stages.filter((s) => s !== MAIN_STAGE_ID).map((stage) => ({ stage, groupId: stageConsumerGroupId(created.id, stage), topic: repartitionStreamName(created.id, stage) }));
    if (p.stateful && !stages.length) throw new Error(`${p.name} was deployed without a Window stage: the suite expects keyed scale-out`);
    const sources = (p.definition.nodes as { type: string; config: { stream?: string } }[]).filter((n) => n.type === "source").map((n) => n.config.stream!);
    pipelines.push({ spec: p, pipelineId: created.id, groupId: consumerGroupId(created.id), sourceTopics: [...new Set(sources)], deadLetterTopic: deadLetterStreamName(TEAM, p.name), parallelism: p.parallelism, stages });
  }
  return { principal, teamId: team.id, pipelines };
}

/** Waits until every pipeline's deployment reports all its tasks running. */
export async function waitAllRunning(t: ChaosTeam, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending: string[] = [];
  while (Date.now() < deadline) {
    pending = [];
    for (const p of t.pipelines) {
      const s = await pipelineStatus(t.principal, TEAM, p.spec.name);
      if (!s.deployed || !s.tasks.length || s.tasks.some((task) => task.state !== "running")) pending.push(p.spec.name);
    }
    if (!pending.length) return;
    await sleep(500);
  }
  throw new Error(`pipelines not running after ${timeoutMs / 1000}s: ${pending.join(", ")}`);
}

/**
 * A redeploy: a new version with the same logic (nodes moved on the canvas)
 * deployed over the running one, so its output must be unchanged — and Window
 * state carries over, since the windows' logic did not change.
 */
export async function redeploy(t: ChaosTeam, p: DeployedPipeline, shift: number): Promise<{ what: string; generation: number }> {
  const def = structuredClone(p.spec.definition) as { nodes: { position: { x: number; y: number } }[] };
  for (const n of def.nodes) n.position = { x: n.position.x + shift, y: n.position.y + shift };
  const saved = await saveVersion(t.principal, TEAM, p.spec.name, { pipeline: def, message: "chaos redeploy: nodes moved" });
  const d = await deploy(t.principal, TEAM, p.spec.name, {});
  return { what: `${p.spec.name} version ${saved.version}, generation ${d.generation}`, generation: d.generation };
}

export async function rescale(t: ChaosTeam, p: DeployedPipeline, parallelism: number): Promise<{ what: string; generation: number }> {
  const from = p.parallelism;
  const d = await scale(t.principal, TEAM, p.spec.name, { parallelism });
  p.parallelism = parallelism;
  return { what: `${p.spec.name} ${from} → ${parallelism} tasks, generation ${d.generation}`, generation: d.generation };
}

/** Deployment ids of a pipeline (one per pipeline: redeploys keep the row). */
export async function deploymentId(p: DeployedPipeline): Promise<string> {
  const d = await prisma().deployment.findUniqueOrThrow({ where: { pipelineId: p.pipelineId } });
  return d.id;
}
