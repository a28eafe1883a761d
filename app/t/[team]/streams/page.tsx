import type { Metadata } from "next";
import Link from "next/link";
import { CreateStreamForm } from "@/components/streams/create-stream-form";
import { CatalogStatsProvider, StreamStatsCell } from "@/components/streams/stream-stats";
import { Badge } from "@/components/ui/badge";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { requirePageUser } from "@/lib/auth/server-session";
import { listStreams } from "@/lib/warehouse/streams";

export const metadata: Metadata = { title: "Streams" };
export const dynamic = "force-dynamic";

export default async function StreamsPage({ params }: { params: Promise<{ team: string }> }) {
  const { team } = await params;
  const user = await requirePageUser();
  const streams = await listStreams(user, team);
  return (
    <>
      <PageHeader title="Streams" description="The streaming warehouse: every stream is owned, documented and schema-versioned. Find one before you produce it again." actions={<CreateStreamForm team={team} />} />
      {streams.length === 0 ? (
        <EmptyState title="No streams yet">
          <p>Streams hold records in the warehouse, in layers from raw (ODS) to application-ready (ADS). Create a source stream for your data, then build pipelines on it.</p>
          <p className="mt-2">Use <span className="font-medium">New stream</span> above, or the command line: <code className="rounded bg-slate-100 px-1 font-mono text-xs">npm run sluice -- stream create --team {team} --name ods.app.clicks --layer ODS --schema &apos;[{`{"name":"user_id","type":"string"}`}]&apos;</code></p>
        </EmptyState>
      ) : (
        <CatalogStatsProvider team={team} streams={streams.filter((s) => s.access !== "see").map((s) => s.name)}>
        <div className="overflow-hidden rounded-xl border border-slate-200 bg-white">
          <table className="min-w-full divide-y divide-slate-200 text-sm">
            <thead className="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">
              <tr><th className="px-4 py-3">Name</th><th className="px-4 py-3">Layer</th><th className="px-4 py-3">Owner</th><th className="px-4 py-3">Partitions</th><th className="px-4 py-3">Schema</th><th className="px-4 py-3">Activity</th><th className="px-4 py-3">Access</th></tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {streams.map((s) => (
                <tr key={s.id}>
                  <td className="px-4 py-3 font-mono text-[13px] text-slate-900"><Link className="hover:text-brand-700 hover:underline" href={`/t/${team}/streams/${encodeURIComponent(s.name)}`}>{s.name}</Link>{s.tags.length ? <div className="mt-1 flex gap-1 font-sans">{s.tags.map((t) => <Badge key={t}>{t}</Badge>)}</div> : null}</td>
                  <td className="px-4 py-3"><Badge tone="blue">{s.layer}</Badge></td>
                  <td className="px-4 py-3">{s.ownerTeam.name}</td>
                  <td className="px-4 py-3">{s.partitions}</td>
                  <td className="px-4 py-3">{s.schema ? `${s.schema.length} field(s), v${s.schemaVersion}` : <span className="text-slate-400">request access to see</span>}</td>
                  <td className="px-4 py-3">{s.access === "see" ? <span className="text-slate-400">—</span> : <StreamStatsCell stream={s.name} />}</td>
                  <td className="px-4 py-3"><Badge tone={s.access === "owner" ? "green" : s.access === "read" ? "blue" : "gray"}>{s.access === "see" ? "listed" : s.access}</Badge></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        </CatalogStatsProvider>
      )}
    </>
  );
}
