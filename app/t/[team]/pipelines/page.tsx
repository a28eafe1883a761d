import type { Metadata } from "next";
import Link from "next/link";
import { NewPipeline } from "@/components/canvas/new-pipeline";
import { Badge, stateTone } from "@/components/ui/badge";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { requirePageUser } from "@/lib/auth/server-session";
import { listPipelines } from "@/lib/pipelines/pipelines";

export const metadata: Metadata = { title: "Pipelines" };
export const dynamic = "force-dynamic";

export default async function PipelinesPage({ params }: { params: Promise<{ team: string }> }) {
  const { team } = await params;
  const user = await requirePageUser();
  const pipelines = await listPipelines(user, team);
  return (
    <>
      <PageHeader title="Pipelines" description="Pipelines read warehouse streams, transform them, and produce new streams for other teams to build on." actions={<NewPipeline team={team} />} />
      {pipelines.length === 0 ? (
        <EmptyState title="No pipelines yet">
          <p>A pipeline turns streams into new streams: filter a click stream, project the fields a team needs, split a firehose, count per minute.</p>
          <p className="mt-2">Start by creating a source stream on the <a className="font-medium text-brand-700 hover:underline" href={`/t/${team}/streams`}>Streams</a> page, then name a pipeline above and build it on the canvas (or apply a definition with <code className="rounded bg-slate-100 px-1 font-mono text-xs">npm run sluice -- pipeline apply --team {team} -f pipeline.json</code>).</p>
        </EmptyState>
      ) : (
        <div className="overflow-hidden rounded-xl border border-slate-200 bg-white">
          <table className="min-w-full divide-y divide-slate-200 text-sm">
            <thead className="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
              <tr><th className="px-4 py-3">Name</th><th className="px-4 py-3">Latest version</th><th className="px-4 py-3">Deployed</th><th className="px-4 py-3">State</th><th className="px-4 py-3">Updated</th></tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {pipelines.map((p) => (
                <tr key={p.id}>
                  <td className="px-4 py-3"><Link href={`/t/${team}/pipelines/${p.name}`} className="font-medium text-slate-900 hover:text-brand-700 hover:underline">{p.name}</Link>{p.description ? <div className="text-xs text-slate-500">{p.description}</div> : null}</td>
                  <td className="px-4 py-3">{p.latestVersion ? `v${p.latestVersion}` : <span className="text-slate-400">none saved</span>}</td>
                  <td className="px-4 py-3">{p.deployment ? `v${p.deployment.version} · ${p.deployment.parallelism} task(s) · ${p.deployment.deliveryGuarantee.replace(/_/g, "-")}` : <span className="text-slate-400">not deployed</span>}</td>
                  <td className="px-4 py-3">{p.deployment ? <Badge tone={stateTone(p.deployment.actualState)}>{p.deployment.actualState}</Badge> : <Badge>draft</Badge>}</td>
                  <td className="px-4 py-3 text-slate-500">{p.updatedAt.toISOString().slice(0, 16).replace("T", " ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
