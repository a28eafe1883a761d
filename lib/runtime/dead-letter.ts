import type { Prisma } from "@prisma/client";
import { prisma } from "@/lib/db/prisma";
import { kafkaAdmin } from "@/lib/kafka/shared";
import type { StreamSchema } from "@/lib/pipeline/schema";

/** Shape of a dead-letter record: enough to find, understand and replay the original. */
export const DEAD_LETTER_SCHEMA: StreamSchema = [
  { name: "reason", type: "string", doc: "why the record could not be processed" },
  { name: "nodeId", type: "string", doc: "the pipeline node that rejected it" },
  { name: "pipelineId", type: "string" },
  { name: "version", type: "int", doc: "pipeline version that ran" },
  { name: "source", type: { struct: [{ name: "topic", type: "string" }, { name: "partition", type: "int" }, { name: "offset", type: "string" }, { name: "timestamp", type: "timestamp" }, { name: "key", type: "string", nullable: true }] } },
  { name: "original", type: "string", nullable: true, doc: "the original value bytes, base64" },
  { name: "record", type: "json", nullable: true, doc: "the record as the node saw it, when it could be decoded" },
  { name: "failedAt", type: "timestamp" },
];

export const DEAD_LETTER_RETENTION_MS = 14 * 86_400_000;

/** Creates the pipeline's dead-letter stream (catalog entry + topic) if it does not exist yet. */
export async function ensureDeadLetterStream(teamId: string, name: string, pipelineName: string): Promise<void> {
  const existing = await prisma().stream.findUnique({ where: { name } });
  if (!existing) {
    await prisma().stream.create({
      data: {
        name,
        topic: name,
        layer: "ODS",
        ownerTeamId: teamId,
        description: `Dead letters of pipeline **${pipelineName}**: records it could not process, with the reason, the node, and the original bytes.`,
        tags: ["dead-letter"],
        partitions: 1,
        retentionMs: BigInt(DEAD_LETTER_RETENTION_MS),
        visibility: "private",
        schemas: { create: { version: 1, format: "fields", definition: DEAD_LETTER_SCHEMA as unknown as Prisma.InputJsonValue } },
      },
    }).catch((e: { code?: string }) => {
      if (e.code !== "P2002") throw e; // created concurrently
    });
  }
  const admin = await kafkaAdmin();
  if (!(await admin.listTopics()).includes(name)) {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: 1, configEntries: [{ name: "retention.ms", value: String(DEAD_LETTER_RETENTION_MS) }] }] });
  }
}
