import type { Metadata } from "next";
import Link from "next/link";
import { RecentreIcon } from "@/components/lineage/icons";
import { LineageExplorer } from "@/components/lineage/lineage-explorer";
import { MAX_DEPTH } from "@/components/lineage/layout";
import type { LineageRoot } from "@/components/lineage/lineage-graph";
import { PageHeader } from "@/components/ui/page-header";
import { requirePageUser } from "@/lib/auth/server-session";
import { AppError } from "@/lib/errors";
import { listPipelines } from "@/lib/pipelines/pipelines";
import { lineage } from "@/lib/warehouse/lineage";
import { listStreams } from "@/lib/warehouse/streams";

export const metadata: Metadata = { title: "Lineage" };
export const dynamic = "force-dynamic";

type Search = { stream?: string | string[]; pipeline?: string | string[]; depth?: string | string[] };
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) || undefined;

/** /t/:team/lineage?stream=…|pipeline=…&depth=2 — who produces and who consumes, around a stream or a pipeline. */
export default async function LineagePage({ params, searchParams }: { params: Promise<{ team: string }>; searchParams: Promise<Search> }) {
  const { team } = await params;
  const q = await searchParams;
  const user = await requirePageUser();
  const stream = one(q.stream);
  const pipeline = one(q.pipeline);
  const depth = Math.min(MAX_DEPTH, Math.max(1, Math.trunc(Number(one(q.depth) ?? 2)) || 2));
  const root: LineageRoot | undefined = stream ? { stream } : pipeline ? { pipeline } : undefined;

  if (!root) {
    const [streams, pipelines] = await Promise.all([listStreams(user, team), listPipelines(user, team)]);
    return (
      <>
        <PageHeader title="Lineage" description="Who produces and who consumes a stream, across teams. Pick a stream or one of your team's pipelines." />
        <form className="flex flex-wrap items-end gap-3 rounded-xl border border-slate-200 bg-white p-4 text-sm">
          <label className="block font-medium text-slate-700">
            Stream
            <select name="stream" className="mt-1 block w-72 rounded-md border border-slate-300 px-2 py-1.5 font-mono text-xs" defaultValue="">
              <option value="">—</option>
              {streams.map((s) => <option key={s.id} value={s.name}>{s.name}</option>)}
            </select>
          </label>
          <span className="pb-2 text-slate-400">or</span>
          <label className="block font-medium text-slate-700">
            Pipeline
            <select name="pipeline" className="mt-1 block w-60 rounded-md border border-slate-300 px-2 py-1.5 font-mono text-xs" defaultValue="">
              <option value="">—</option>
              {pipelines.map((p) => <option key={p.name} value={p.name}>{p.name}</option>)}
            </select>
          </label>
          <button className="rounded-md bg-brand-600 px-4 py-2 font-semibold text-white hover:bg-brand-700">Show lineage</button>
        </form>
      </>
    );
  }

  const initial = await lineage(user, team, root, depth).catch((e) => {
    if (e instanceof AppError && e.code === "not_found") return e.message;
    throw e;
  });
  const label = "stream" in root ? root.stream : root.pipeline;
  const pageOf = "stream" in root ? `/t/${team}/streams/${encodeURIComponent(root.stream)}` : `/t/${team}/pipelines/${encodeURIComponent(root.pipeline)}`;
  return (
    <>
      <div className="mb-6">
        <Link href={`/t/${team}/lineage`} className="text-sm text-slate-500 hover:text-slate-700">← Lineage</Link>
        <h1 className="mt-2 text-2xl font-semibold tracking-tight text-slate-900">
          Lineage of {"stream" in root ? "stream" : "pipeline"} <span className="font-mono">{label}</span>
        </h1>
        {typeof initial === "string" ? null : (
          <p className="mt-1 text-sm text-slate-600">
            Data flows left to right. Click a name to open it; <RecentreIcon className="inline h-3.5 w-3.5 align-[-2px]" /> centres the graph on it. <Link className="font-medium text-brand-700 hover:underline" href={pageOf}>Open the {"stream" in root ? "stream" : "pipeline"}</Link>
          </p>
        )}
      </div>
      {typeof initial === "string" ? (
        <div role="alert" className="rounded-xl border border-amber-200 bg-amber-50 p-4 text-sm text-amber-900">
          {initial} Check the name, or pick one on the <Link className="font-medium underline" href={`/t/${team}/lineage`}>lineage page</Link>.
        </div>
      ) : (
        <LineageExplorer key={`${"stream" in root ? "s" : "p"}:${label}`} team={team} root={root} depth={depth} initial={initial} />
      )}
    </>
  );
}
