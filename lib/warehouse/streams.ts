import type { Prisma } from "@prisma/client";
import { Prisma as P } from "@prisma/client";
import { recordAudit } from "@/lib/audit/record";
import type { Principal } from "@/lib/auth/principal";
import { actorUserId } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { prisma } from "@/lib/db/prisma";
import { AppError } from "@/lib/errors";
import { kafkaAdmin } from "@/lib/kafka/shared";
import { allFieldPaths, type StreamSchema } from "@/lib/pipeline/schema";
import { checkCompatibility } from "@/lib/pipeline/schema-compat";
import { z } from "zod";
import { streamSchemaInput } from "./field-schema";
import { accessOf, requireStreamAccess, type StreamAccess, type StreamWithRelations } from "./access";
import { streamImpact } from "./lineage";
import { createStreamInput, type CreateStreamInput } from "./schemas";

export interface StreamView {
  id: string;
  name: string;
  layer: string;
  ownerTeam: { slug: string; name: string };
  description: string;
  tags: string[];
  topic: string;
  partitions: number;
  retentionMs: number | null;
  visibility: string;
  compatibility: string;
  schemaVersion: number | null;
  /** Omitted for teams that may only see the stream's existence in the catalog. */
  schema?: StreamSchema;
  access: StreamAccess;
  createdAt: Date;
}

export function streamView(s: StreamWithRelations, access: StreamAccess): StreamView {
  const latest = s.schemas[0];
  return {
    id: s.id,
    name: s.name,
    layer: s.layer,
    ownerTeam: { slug: s.ownerTeam.slug, name: s.ownerTeam.name },
    description: s.description,
    tags: s.tags,
    topic: s.topic,
    partitions: s.partitions,
    retentionMs: s.retentionMs === null ? null : Number(s.retentionMs),
    visibility: s.visibility,
    compatibility: s.compatibility,
    schemaVersion: latest?.version ?? null,
    ...(access !== "see" && latest ? { schema: latest.definition as unknown as StreamSchema } : {}),
    access,
    createdAt: s.createdAt,
  };
}

/**
 * Creates a stream owned by the team: the catalog row with schema version 1
 * and its Kafka topic. The topic is created inside the database transaction,
 * so a failed topic creation leaves no catalog entry behind.
 */
export async function createStream(principal: Principal, teamSlug: string, raw: CreateStreamInput): Promise<StreamView> {
  const input = createStreamInput.parse(raw);
  const { team } = await requireTeamRole(principal, teamSlug, "editor");
  const topic = input.name;
  try {
    const stream = await prisma().$transaction(
      async (tx) => {
        const s = await tx.stream.create({
          data: {
            name: input.name,
            layer: input.layer,
            ownerTeamId: team.id,
            description: input.description,
            tags: input.tags,
            topic,
            partitions: input.partitions,
            retentionMs: input.retentionMs === null ? null : BigInt(input.retentionMs),
            visibility: input.visibility,
            schemas: { create: { version: 1, format: "fields", definition: input.schema as unknown as Prisma.InputJsonValue, createdById: actorUserId(principal) } },
          },
          include: { ownerTeam: true, schemas: true, grants: true },
        });
        await recordAudit(principal, { teamId: team.id, action: "stream.create", entityType: "stream", entityId: s.id, details: { name: s.name } }, tx);
        const admin = await kafkaAdmin();
        const created = await admin.createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic,
              numPartitions: input.partitions,
              configEntries: [{ name: "retention.ms", value: String(input.retentionMs ?? -1) }],
            },
          ],
        });
        if (!created) throw nameNotAvailable(input.name);
        return s;
      },
      { timeout: 30_000 },
    );
    return streamView(stream, "owner");
  } catch (e) {
    if (e instanceof P.PrismaClientKnownRequestError && e.code === "P2002") {
      const existing = await prisma().stream.findUnique({ where: { name: input.name }, include: { ownerTeam: true, grants: { where: { teamId: team.id } } } });
      const access = existing ? accessOf(existing, team.id) : undefined;
      if (existing && access) {
        throw new AppError("conflict", `A stream named "${input.name}" already exists${access === "owner" ? " in your team" : `, owned by team "${existing.ownerTeam.slug}"`}: pick another name${access === "owner" ? "" : ", or use it (find it in the catalog; request access if you cannot read it)"}.`);
      }
      throw nameNotAvailable(input.name);
    }
    throw e;
  }
}

/**
 * The answer for a name taken by something the team cannot see: another
 * team's private stream, or a Kafka topic outside the catalog. Names are one
 * namespace (they are topic names), so a taken name cannot be given out; the
 * answer is the same for both causes, so it does not confirm that a private
 * stream exists, and it tells a legitimate user what to do.
 */
function nameNotAvailable(name: string): AppError {
  return new AppError(
    "conflict",
    `The name "${name}" is not available: choose another one. Stream names are shared by every team (each is also a Kafka topic), so a name can be taken by a stream your team cannot see or by a topic outside the catalog; prefixing names with your team (e.g. "ods.<team>.…") avoids this.`,
  );
}

/** The streams a team can see: its own, `team`/`public` ones, and ones it holds a grant for. */
export const streamFilter = z.object({
  /** Matches name, tags and description. */
  q: z.string().max(200).optional(),
  layer: createStreamInput.shape.layer.optional(),
  tag: z.string().max(40).optional(),
  /** Owner team slug. */
  owner: z.string().max(100).optional(),
  /** A field name in the current schema (top level or nested). */
  field: z.string().max(200).optional(),
});
export type StreamFilter = z.input<typeof streamFilter>;

export async function listStreams(principal: Principal, teamSlug: string, rawFilter: StreamFilter = {}): Promise<StreamView[]> {
  // Checked here, not only in the route: an unknown layer reached Prisma's enum filter and answered 500.
  const filter = streamFilter.parse(rawFilter);
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const rows = await prisma().stream.findMany({
    where: {
      AND: [
        { OR: [{ ownerTeamId: team.id }, { visibility: { in: ["team", "public"] } }, { grants: { some: { teamId: team.id } } }] },
        // Internal streams (a pipeline's repartition streams) are not the catalog's: their pipeline's page shows them.
        { internalPipelineId: null },
        filter.q ? { OR: [{ name: { contains: filter.q } }, { tags: { has: filter.q } }, { description: { contains: filter.q, mode: "insensitive" } }] } : {},
        filter.layer ? { layer: filter.layer } : {},
        filter.tag ? { tags: { has: filter.tag } } : {},
        filter.owner ? { ownerTeam: { slug: filter.owner } } : {},
      ],
    },
    include: { ownerTeam: true, schemas: { orderBy: { version: "desc" }, take: 1 }, grants: { where: { teamId: team.id } } },
    orderBy: { name: "asc" },
  });
  const views = rows.map((s) => streamView(s, accessOf(s, team.id)!));
  // Field search looks only into schemas the team may see.
  return filter.field ? views.filter((v) => v.schema && allFieldPaths(v.schema).some((p) => p === filter.field || p.endsWith(`.${filter.field}`))) : views;
}

export async function getStream(principal: Principal, teamSlug: string, name: string): Promise<StreamView> {
  const { team } = await requireTeamRole(principal, teamSlug, "viewer");
  const { stream, access } = await requireStreamAccess(team.id, name, "see");
  return streamView(stream, access);
}

/**
 * Deletes the stream and its topic (owner team editors). Its records are gone
 * for good, so a stream that pipelines read is refused with the impact unless
 * `force` is given.
 */
export async function deleteStream(principal: Principal, teamSlug: string, name: string, opts: { force?: boolean } = {}): Promise<void> {
  const { team } = await requireTeamRole(principal, teamSlug, "editor");
  const { stream } = await requireStreamAccess(team.id, name, "owner");
  const impact = await streamImpact(name);
  if (impact.consumers.length && !opts.force) {
    throw new AppError("conflict", `${impact.summary}: stop or change them first, or delete with force.`, impact.consumers);
  }
  await prisma().$transaction(async (tx) => {
    await tx.stream.delete({ where: { id: stream.id } });
    await recordAudit(principal, { teamId: team.id, action: "stream.delete", entityType: "stream", entityId: stream.id, details: { name } }, tx);
    const admin = await kafkaAdmin();
    const existing = await admin.listTopics();
    if (existing.includes(stream.topic)) await admin.deleteTopics({ topics: [stream.topic] });
  });
}

export const newSchemaInput = z.object({
  schema: streamSchemaInput,
  /** Changes the stream's compatibility rule for this and later versions. */
  compatibility: z.enum(["BACKWARD", "FORWARD", "FULL", "NONE"]).optional(),
});

/**
 * Publishes a new schema version after checking it against the current one
 * with the stream's compatibility rule; refused with every incompatible field.
 * Returns the impact (who reads the stream) with the new version.
 */
export async function publishSchemaVersion(principal: Principal, teamSlug: string, name: string, raw: z.input<typeof newSchemaInput>) {
  const input = newSchemaInput.parse(raw);
  const { team } = await requireTeamRole(principal, teamSlug, "editor");
  const { stream } = await requireStreamAccess(team.id, name, "owner");
  const current = stream.schemas[0];
  const mode = input.compatibility ?? stream.compatibility;
  const problems = current ? checkCompatibility(current.definition as unknown as StreamSchema, input.schema, mode) : [];
  if (problems.length) {
    throw new AppError("invalid_input", `The new schema is not ${mode} compatible with version ${current!.version}: ${problems.join("; ")}.`, problems.map((message) => ({ path: ["schema"], message })));
  }
  const version = (current?.version ?? 0) + 1;
  await prisma().$transaction(async (tx) => {
    await tx.streamSchema.create({ data: { streamId: stream.id, version, format: "fields", definition: input.schema as unknown as Prisma.InputJsonValue, createdById: actorUserId(principal) } });
    if (input.compatibility) await tx.stream.update({ where: { id: stream.id }, data: { compatibility: input.compatibility } });
    await recordAudit(principal, { teamId: team.id, action: "stream.schema", entityType: "stream", entityId: stream.id, details: { version, compatibility: mode } }, tx);
  });
  return { stream: name, version, compatibility: mode, impact: await streamImpact(name) };
}
