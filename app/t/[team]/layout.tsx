import Link from "next/link";
import { Sidebar } from "@/components/shell/sidebar";
import { requirePageUser } from "@/lib/auth/server-session";
import { AppError } from "@/lib/errors";
import { getTeam, listTeams } from "@/lib/teams/teams";
import { listIncoming } from "@/lib/warehouse/grants";
import { unreadCount } from "@/lib/alerts/inbox";

export const dynamic = "force-dynamic";

export default async function TeamLayout({ children, params }: { children: React.ReactNode; params: Promise<{ team: string }> }) {
  const { team: slug } = await params;
  const user = await requirePageUser();
  const teams = await listTeams(user);
  const team = await getTeam(user, slug).catch((e) => {
    if (e instanceof AppError && e.code === "forbidden") return null;
    throw e;
  });
  if (!team) {
    return (
      <main className="flex min-h-full items-center justify-center px-4">
        <div className="max-w-md text-center">
          <h1 className="text-xl font-semibold">You are not a member of “{slug}”</h1>
          <p className="mt-2 text-sm text-slate-600">Ask one of the team&apos;s owners to add {user.email}, or go back to a team of yours.</p>
          <Link href="/" className="mt-6 inline-flex rounded-md bg-brand-600 px-4 py-2 text-sm font-medium text-white">Go to my teams</Link>
        </div>
      </main>
    );
  }
  return (
    <div className="flex min-h-full">
      <Sidebar team={team} teams={teams} user={{ name: user.name, email: user.email }} pendingRequests={team.role === "owner" ? (await listIncoming(user, slug, "requested")).length : 0} unreadAlerts={await unreadCount(user, team.id)} />
      <main className="min-w-0 flex-1 px-8 py-8">{children}</main>
    </div>
  );
}
