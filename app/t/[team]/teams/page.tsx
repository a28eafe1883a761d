import type { Metadata } from "next";
import { Members } from "@/components/teams/members";
import { PageHeader } from "@/components/ui/page-header";
import { requirePageUser } from "@/lib/auth/server-session";
import { listMembers } from "@/lib/teams/members";
import { getTeam } from "@/lib/teams/teams";

export const metadata: Metadata = { title: "Team" };
export const dynamic = "force-dynamic";

export default async function TeamPage({ params }: { params: Promise<{ team: string }> }) {
  const { team: slug } = await params;
  const user = await requirePageUser();
  const [team, members] = await Promise.all([getTeam(user, slug), listMembers(user, slug)]);
  return (
    <>
      <PageHeader title={team.name} description="Owners manage members and tokens; editors build and deploy pipelines; viewers read." />
      <Members team={slug} members={members} me={user.userId} canManage={team.role === "owner"} />
    </>
  );
}
