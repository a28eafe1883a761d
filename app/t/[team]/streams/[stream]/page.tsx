import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { LineageGraph } from "@/components/lineage/lineage-graph";
import { AccessRequests, RequestAccess } from "@/components/streams/access-panel";
import { DeleteStream } from "@/components/streams/delete-stream";
import { StreamDescription } from "@/components/streams/description-editor";
import { LiveRecords } from "@/components/streams/live-records";
import { ProduceRecords } from "@/components/streams/produce-records";
import { StreamStatsPanel } from "@/components/streams/stream-stats";
import { Badge } from "@/components/ui/badge";
import { roleAtLeast } from "@/lib/auth/roles";
import { requirePageUser } from "@/lib/auth/server-session";
import { AppError } from "@/lib/errors";
import { formatFieldType } from "@/lib/pipeline/schema";
import { getTeam } from "@/lib/teams/teams";
import { listIncoming, listOutgoing } from "@/lib/warehouse/grants";
import { streamImpact } from "@/lib/warehouse/lineage";
import { readRecords } from "@/lib/warehouse/records";
import { getStream } from "@/lib/warehouse/streams";

export const dynamic = "force-dynamic";

export async function generateMetadata({ params }: { params: Promise<{ stream: string }> }): Promise<Metadata> {
  return { title: decodeURIComponent((await params).stream) };
}

export default async function StreamPage({ params }: { params: Promise<{ team: string; stream: string }> }) {
  const { team: slug, stream: raw } = await params;
  const name = decodeURIComponent(raw);
  const user = await requirePageUser();
  const team = await getTeam(user, slug);
  const stream = await getStream(user, slug, name).catch((e) => {
    if (e instanceof AppError && e.code === "not_found") notFound();
    throw e;
  });
  const readable = stream.access !== "see";
  const canEdit = stream.access === "owner" && roleAtLeast(team.role, "editor");
  const [records, impact, incoming, outgoing] = await Promise.all([
    readable ? readRecords(user, slug, name, { limit: 20 }).then((r) => r.records).catch(() => []) : Promise.resolve([]),
    streamImpact(name),
    stream.access === "owner" && team.role === "owner" ? listIncoming(user, slug).then((rs) => rs.filter((r) => r.stream === name)) : Promise.resolve([]),
    stream.access !== "owner" ? listOutgoing(user, slug).then((rs) => rs.find((r) => r.stream === name)) : Promise.resolve(undefined),
  ]);
  return (
    <div className="space-y-6">
      <div>
        <Link href={`/t/${slug}/streams`} className="text-sm text-slate-500 hover:text-slate-700">← Streams</Link>
        <div className="mt-2 flex flex-wrap items-center gap-3">
          <h1 className="font-mono text-2xl font-semibold tracking-tight">{stream.name}</h1>
          <Badge tone="blue">{stream.layer}</Badge>
          <Badge>{stream.visibility}</Badge>
          {stream.tags.map((t) => <Badge key={t}>{t}</Badge>)}
          <div className="ml-auto flex items-center gap-2">
            <Link href={`/t/${slug}/lineage?stream=${encodeURIComponent(name)}`} className="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-50">Full lineage</Link>
            {canEdit ? <DeleteStream team={slug} stream={name} /> : null}
          </div>
        </div>
        <p className="mt-1 text-sm text-slate-600">
          Owned by <span className="font-medium">{stream.ownerTeam.name}</span> · {stream.partitions} partition(s) · retention {stream.retentionMs === null ? "forever" : `${Math.round(stream.retentionMs / 3_600_000)} h`} · schema v{stream.schemaVersion} ({stream.compatibility}) · {impact.summary}
        </p>
        <StreamDescription team={slug} stream={name} description={stream.description} canEdit={canEdit} />
      </div>

      {readable ? <StreamStatsPanel team={slug} stream={name} /> : null}

      <div className="grid gap-6 lg:grid-cols-3">
        <div className="space-y-6 lg:col-span-1">
        <section className="rounded-xl border border-slate-200 bg-white p-4">
          <h2 className="mb-2 text-sm font-semibold">Schema</h2>
          {stream.schema ? (
            <table className="w-full text-sm" data-testid="schema-table">
              <tbody className="divide-y divide-slate-100">
                {stream.schema.map((f) => (
                  <tr key={f.name}>
                    <td className="py-1.5 font-mono">{f.name}</td>
                    <td className="py-1.5 text-slate-600">{formatFieldType(f.type)}{f.nullable ? "?" : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="text-sm text-slate-500">Visible once your team can read this stream.</p>
          )}
        </section>
        {canEdit ? <ProduceRecords team={slug} stream={name} schema={stream.schema ?? null} /> : null}
        </div>
        <div className="lg:col-span-2">
          {readable ? (
            <LiveRecords team={slug} stream={name} initial={records} />
          ) : (
            <section className="rounded-xl border border-slate-200 bg-white p-4">
              <h2 className="mb-2 text-sm font-semibold">Access</h2>
              <RequestAccess team={slug} stream={name} owner={stream.ownerTeam.slug} current={outgoing ? { status: outgoing.status, note: outgoing.note } : undefined} />
            </section>
          )}
        </div>
      </div>

      <LineageGraph team={slug} root={{ stream: name }} initialDepth={1} height="22rem" />

      {stream.access === "owner" ? (
        <section className="rounded-xl border border-slate-200 bg-white p-4">
          <h2 className="mb-2 text-sm font-semibold">Access requests</h2>
          {team.role === "owner" ? (
            <AccessRequests team={slug} canDecide requests={incoming.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }))} />
          ) : (
            <p className="text-sm text-slate-500">The team&apos;s owners see and decide requests for access to this stream.</p>
          )}
        </section>
      ) : null}
    </div>
  );
}
