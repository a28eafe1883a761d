import type { Prisma } from "@prisma/client";
import { prisma } from "@/lib/db/prisma";
import { AppError } from "@/lib/errors";
import { kafkaAdmin } from "@/lib/kafka/shared";
import type { StreamSchema } from "@/lib/pipeline/schema";
import { pipelineStateTopics } from "./state-store";

/**
 * A Window's repartition stream (docs/runtime.md "Stages"): an internal
 * catalog stream of the pipeline's team — private, tagged, marked with the
 * pipeline that owns it, so the catalog hides it, the pipeline's page and
 * lineage show it, and deleting the pipeline deletes it. Its partition count
 * is the deployment's max parallelism (the key groups).
 */
export const REPARTITION_RETENTION_MS = 7 * 86_400_000;

export async function ensureRepartitionStream(opts: { teamId: string; pipelineId: string; pipelineName: string; windowNodeId: string; name: string; schema: StreamSchema; partitions: number }): Promise<void> {
  const existing = await prisma().stream.findUnique({ where: { name: opts.name } });
  if (existing && (existing.internalPipelineId !== opts.pipelineId || existing.ownerTeamId !== opts.teamId)) {
    throw new AppError("conflict", `The name "${opts.name}" of the pipeline's repartition stream is taken by another stream: Sluice cannot write window input there.`);
  }
  const admin = await kafkaAdmin();
  if (!existing && (await admin.listTopics()).includes(opts.name) && !(await prisma().stream.findUnique({ where: { name: opts.name } }))) {
    // The catalog row comes before the topic (and goes before it), so a topic without one was made outside Sluice,
    // whose readers Sluice cannot know: the Window's input (the team's records) must not go there (issue 16, High 2).
    throw new AppError("conflict", `A Kafka topic named "${opts.name}" (the pipeline's repartition stream) exists outside the catalog, so Sluice cannot tell who reads it. Ask an administrator to delete that topic (if its stream was just deleted, wait a few seconds), then deploy again.`);
  }
  if (existing && existing.partitions !== opts.partitions) {
    throw new AppError("conflict", `The repartition stream "${opts.name}" has ${existing.partitions} partitions, not the pipeline's max parallelism ${opts.partitions}: deploy with resetState to start it over.`);
  }
  if (!existing) {
    await prisma().stream
      .create({
        data: {
          name: opts.name,
          topic: opts.name,
          layer: "ODS",
          ownerTeamId: opts.teamId,
          internalPipelineId: opts.pipelineId,
          description: `Internal: the input of Window node **${opts.windowNodeId}** of pipeline **${opts.pipelineName}**, keyed by the window key (one partition per key group), with the watermarks of the tasks that write it.`,
          tags: ["internal", "repartition"],
          partitions: opts.partitions,
          retentionMs: BigInt(REPARTITION_RETENTION_MS),
          visibility: "private",
          schemas: { create: { version: 1, format: "fields", definition: opts.schema as unknown as Prisma.InputJsonValue } },
        },
      })
      .catch((e: { code?: string }) => {
        if (e.code !== "P2002") throw e; // created concurrently
      });
  } else {
    // The Window's input schema follows the deployed version.
    const latest = await prisma().streamSchema.findFirst({ where: { streamId: existing.id }, orderBy: { version: "desc" } });
    if (JSON.stringify(latest?.definition) !== JSON.stringify(opts.schema)) {
      await prisma().streamSchema.create({ data: { streamId: existing.id, version: (latest?.version ?? 0) + 1, format: "fields", definition: opts.schema as unknown as Prisma.InputJsonValue } });
    }
  }
  if (!(await admin.listTopics()).includes(opts.name)) {
    await admin
      .createTopics({ waitForLeaders: true, topics: [{ topic: opts.name, numPartitions: opts.partitions, configEntries: [{ name: "retention.ms", value: String(REPARTITION_RETENTION_MS) }] }] })
      .catch((e: { type?: string }) => {
        if (e.type !== "TOPIC_ALREADY_EXISTS") throw e;
      });
  }
}

/** The pipeline's internal streams (its page lists them). */
export async function internalStreams(pipelineId: string) {
  return prisma().stream.findMany({ where: { internalPipelineId: pipelineId }, orderBy: { name: "asc" } });
}

/** Deletes what the runtime created for a pipeline: its internal streams (catalog rows and topics) and its window-state changelogs. */
export async function deletePipelineRuntimeData(pipelineId: string): Promise<void> {
  const streams = await internalStreams(pipelineId);
  const topics = [...streams.map((s) => s.topic), ...(await pipelineStateTopics(pipelineId))];
  if (streams.length) await prisma().stream.deleteMany({ where: { internalPipelineId: pipelineId } });
  const admin = await kafkaAdmin();
  const existing = new Set(await admin.listTopics());
  const gone = topics.filter((t) => existing.has(t));
  if (gone.length) await admin.deleteTopics({ topics: gone });
}
