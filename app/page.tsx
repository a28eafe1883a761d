import { redirect } from "next/navigation";
import { requirePageUser } from "@/lib/auth/server-session";
import { listTeams } from "@/lib/teams/teams";

export const dynamic = "force-dynamic";

// "/" sends people where they can act: sign in, create a first team, or their team's pipelines.
export default async function Home() {
  const user = await requirePageUser();
  const teams = await listTeams(user);
  redirect(teams.length ? `/t/${teams[0].slug}/pipelines` : "/onboarding");
}
