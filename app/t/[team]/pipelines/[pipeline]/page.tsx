import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { PipelineEditor } from "@/components/canvas/editor";
import { roleAtLeast } from "@/lib/auth/roles";
import { requirePageUser } from "@/lib/auth/server-session";
import { AppError } from "@/lib/errors";
import { requirePipeline } from "@/lib/pipelines/pipelines";
import { prisma } from "@/lib/db/prisma";
import { listStreams } from "@/lib/warehouse/streams";

export const dynamic = "force-dynamic";

export async function generateMetadata({ params }: { params: Promise<{ pipeline: string }> }): Promise<Metadata> {
  return { title: (await params).pipeline };
}

export default async function PipelineEditorPage({ params }: { params: Promise<{ team: string; pipeline: string }> }) {
  const { team, pipeline: name } = await params;
  const user = await requirePageUser();
  const found = await requirePipeline(user, team, name, "viewer").catch((e) => {
    if (e instanceof AppError && e.code === "not_found") notFound();
    throw e;
  });
  const membership = await prisma().membership.findUniqueOrThrow({ where: { userId_teamId: { userId: user.userId, teamId: found.team.id } } });
  const latest = found.pipeline.versions[0];
  const streams = (await listStreams(user, team)).map((s) => ({ name: s.name, access: s.access, fields: (s.schema ?? []).map((f) => f.name), layer: s.layer, owner: s.ownerTeam.slug, schema: s.schema }));
  return (
    <div className="-mx-8 -my-8">
      <PipelineEditor
        team={team}
        pipeline={found.pipeline.name}
        initial={(latest?.graph as never) ?? null}
        streams={streams}
        latestVersion={latest?.version ?? null}
        canEdit={roleAtLeast(membership.role, "editor")}
      />
    </div>
  );
}
