import type { Metadata } from "next";
import { NewPipeline } from "@/components/canvas/new-pipeline";
import { NewPipelineFromSql } from "@/components/pipelines/new-from-sql";
import { PipelinesTable } from "@/components/pipelines/pipelines-table";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { roleAtLeast } from "@/lib/auth/roles";
import { requirePageUser } from "@/lib/auth/server-session";
import { listPipelineOverview } from "@/lib/pipelines/overview";
import { getTeam } from "@/lib/teams/teams";

export const metadata: Metadata = { title: "Pipelines" };
export const dynamic = "force-dynamic";

export default async function PipelinesPage({ params }: { params: Promise<{ team: string }> }) {
  const { team } = await params;
  const user = await requirePageUser();
  const [pipelines, { role }] = await Promise.all([listPipelineOverview(user, team), getTeam(user, team)]);
  return (
    <>
      <PageHeader title="Pipelines" description="Pipelines read warehouse streams, transform them, and produce new streams for other teams to build on." actions={roleAtLeast(role, "editor") ? <div className="flex items-start gap-2"><NewPipeline team={team} /><NewPipelineFromSql team={team} /></div> : undefined} />
      {pipelines.length === 0 ? (
        <EmptyState title="No pipelines yet">
          <p>A pipeline turns streams into new streams: filter a click stream, project the fields a team needs, split a firehose, count per minute.</p>
          {roleAtLeast(role, "editor") ? (
            <p className="mt-2">Start by creating a source stream on the <a className="font-medium text-brand-700 hover:underline" href={`/t/${team}/streams`}>Streams</a> page, then name a pipeline above and build it on the canvas (or apply a definition with <code className="rounded bg-slate-100 px-1 font-mono text-xs">npm run sluice -- pipeline apply --team {team} -f pipeline.json</code>).</p>
          ) : (
            <p className="mt-2">You have view access to this team: its editors create pipelines, and you will see them here. Ask a team owner for the editor role to build one yourself.</p>
          )}
        </EmptyState>
      ) : (
        <PipelinesTable team={team} initial={JSON.parse(JSON.stringify(pipelines))} canEdit={roleAtLeast(role, "editor")} />
      )}
    </>
  );
}
