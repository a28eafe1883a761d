import type { Metadata } from "next";
import { Tokens } from "@/components/settings/tokens";
import { PageHeader } from "@/components/ui/page-header";
import { requirePageUser } from "@/lib/auth/server-session";
import { getTeam } from "@/lib/teams/teams";
import { listTokens } from "@/lib/tokens/tokens";

export const metadata: Metadata = { title: "Settings" };
export const dynamic = "force-dynamic";

export default async function SettingsPage({ params }: { params: Promise<{ team: string }> }) {
  const { team: slug } = await params;
  const user = await requirePageUser();
  const team = await getTeam(user, slug);
  return (
    <>
      <PageHeader title="Settings" description={`API tokens for ${team.name}.`} />
      {team.role === "owner" ? (
        <Tokens team={slug} tokens={(await listTokens(user, slug)).map((t) => ({ ...t, createdAt: t.createdAt.toISOString(), lastUsedAt: t.lastUsedAt?.toISOString() ?? null, expiresAt: t.expiresAt?.toISOString() ?? null, revokedAt: t.revokedAt?.toISOString() ?? null }))} />
      ) : (
        <p className="rounded-xl border border-slate-200 bg-white p-4 text-sm text-slate-600">Only the team&apos;s owners manage API tokens.</p>
      )}
    </>
  );
}
