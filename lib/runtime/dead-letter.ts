import type { Prisma } from "@prisma/client";
import { prisma } from "@/lib/db/prisma";
import { AppError } from "@/lib/errors";
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

/**
 * Why the team may not use `name` as one of its pipeline's platform topics, or
 * undefined. Dead letters are full copies of the team's records and window
 * state is derived from them, so they may only go to a topic no other team
 * can read: a catalog stream of that name owned by another team (claimed
 * before the platform reserved its prefixes) or a Kafka topic outside the
 * catalog (whose readers Sluice cannot know) is refused.
 */
export async function platformTopicProblem(teamId: string, name: string, kind: "dead-letter" | "state"): Promise<string | undefined> {
  const claimed = await prisma().stream.findFirst({ where: { OR: [{ name }, { topic: name }] }, select: { ownerTeamId: true } });
  const what = kind === "dead-letter" ? "dead-letter stream" : "window-state topic";
  // A dead-letter stream is a catalog stream of the team; a state topic never has a catalog entry.
  if (claimed && (kind === "state" || claimed.ownerTeamId !== teamId)) {
    return `the pipeline's ${what} "${name}" is already taken by a stream ${kind === "state" ? "in the catalog" : "your team does not own"}, so your records would go where others can read them. Ask a Sluice administrator to delete or rename that stream, then deploy again`;
  }
  if (!claimed && kind === "dead-letter" && (await (await kafkaAdmin()).listTopics()).includes(name)) {
    return `a Kafka topic named "${name}" (the pipeline's ${what}) exists outside the catalog, so Sluice cannot tell who reads it. Ask an administrator to delete that topic (if you just deleted the stream, wait a few seconds), then deploy again`;
  }
  return undefined;
}

/** Refuses (409) to deploy when a platform topic of the pipeline is not the team's (see platformTopicProblem). */
export async function requirePlatformTopic(teamId: string, name: string, kind: "dead-letter" | "state"): Promise<void> {
  const problem = await platformTopicProblem(teamId, name, kind);
  if (problem) throw new AppError("conflict", `Refusing to deploy: ${problem}.`);
}

/**
 * Creates the pipeline's dead-letter stream (catalog entry + topic) if it does
 * not exist yet, after checking that the name is the team's to use.
 */
export async function ensureDeadLetterStream(teamId: string, name: string, pipelineName: string): Promise<void> {
  await requirePlatformTopic(teamId, name, "dead-letter");
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
      if (e.code !== "P2002") throw e; // created concurrently (by this team: the name holds its slug, and dlq. is reserved)
    });
  }
  const admin = await kafkaAdmin();
  if (!(await admin.listTopics()).includes(name)) {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: 1, configEntries: [{ name: "retention.ms", value: String(DEAD_LETTER_RETENTION_MS) }] }] });
  }
}
