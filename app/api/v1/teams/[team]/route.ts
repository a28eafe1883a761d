import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { getTeam } from "@/lib/teams/teams";

// GET /api/v1/teams/:team — the team and the caller's role in it
export const GET = api<{ team: string }>(async (req, { params }) => getTeam(await authenticate(req.headers), params.team));
