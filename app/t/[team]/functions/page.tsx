import type { Metadata } from "next";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { requireTeamRole } from "@/lib/auth/team-access";
import { requirePageUser } from "@/lib/auth/server-session";
import { prisma } from "@/lib/db/prisma";

export const metadata: Metadata = { title: "Functions" };
export const dynamic = "force-dynamic";

export default async function FunctionsPage({ params }: { params: Promise<{ team: string }> }) {
  const { team: slug } = await params;
  const user = await requirePageUser();
  const { team } = await requireTeamRole(user, slug, "viewer");
  const functions = await prisma().function.findMany({ where: { teamId: team.id }, include: { versions: { orderBy: { version: "desc" }, take: 1 } }, orderBy: { name: "asc" } });
  return (
    <>
      <PageHeader title="Functions" description="JavaScript user-defined functions (map, flatMap or filter), versioned and run in a sandbox by UDF nodes." />
      {functions.length === 0 ? (
        <EmptyState title="No functions yet">
          <p>When a Filter or Projection expression is not enough, a UDF node runs a small JavaScript function over each record — sandboxed, with memory and time limits, with failures sent to the dead-letter stream instead of stopping the pipeline.</p>
        </EmptyState>
      ) : (
        <ul className="divide-y divide-slate-100 rounded-xl border border-slate-200 bg-white">
          {functions.map((f) => (
            <li key={f.id} className="px-4 py-3">
              <div className="font-medium">{f.name} <span className="text-sm font-normal text-slate-500">v{f.versions[0]?.version ?? 0} · {f.versions[0]?.form}</span></div>
              {f.description ? <p className="text-sm text-slate-600">{f.description}</p> : null}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
