import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { createTeamInput } from "@/lib/teams/schemas";
import { createTeam, listTeams } from "@/lib/teams/teams";

// GET /api/v1/teams — teams the caller belongs to
export const GET = api(async (req) => ({ teams: await listTeams(await authenticate(req.headers)) }));

// POST /api/v1/teams — create a team; the caller becomes its owner
export const POST = api(async (req) => {
  const principal = await authenticate(req.headers);
  return json(await createTeam(principal, await parseBody(req, createTeamInput)), 201);
});
