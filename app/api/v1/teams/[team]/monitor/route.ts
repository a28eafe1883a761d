import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { fleetOverview } from "@/lib/monitor/fleet";

export const dynamic = "force-dynamic";

// GET /api/v1/teams/:team/monitor — fleet overview: the team's pipelines at a glance and every worker process
export const GET = api<{ team: string }>(async (req, { params }) => fleetOverview(await authenticate(req.headers), params.team));
