import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { requireStreamAccess } from "@/lib/warehouse/access";
import { streamImpact } from "@/lib/warehouse/lineage";

// GET /api/v1/teams/:team/streams/:stream/impact — who reads this stream ("3 pipelines in 2 teams read this")
export const GET = api<{ team: string; stream: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  const { team } = await requireTeamRole(principal, params.team, "viewer");
  await requireStreamAccess(team.id, params.stream, "owner");
  return streamImpact(params.stream);
});
