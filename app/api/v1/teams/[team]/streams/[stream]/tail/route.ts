import { api } from "@/lib/api/handler";
import { sseResponse } from "@/lib/api/sse";
import { authenticate } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { requireStreamAccess } from "@/lib/warehouse/access";
import { tailRecords } from "@/lib/warehouse/records";

export const dynamic = "force-dynamic";

// GET /api/v1/teams/:team/streams/:stream/tail — live records over Server-Sent Events
export const GET = api<{ team: string; stream: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  // Check access before the stream opens, so refusals are ordinary JSON errors.
  const { team } = await requireTeamRole(principal, params.team, "viewer");
  await requireStreamAccess(team.id, params.stream, "read");
  return sseResponse(req, (signal) => tailRecords(principal, params.team, params.stream, signal), "records");
});
