import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { webEnv } from "@/lib/env/web";
import { inviteInput, inviteMember, listInvitations } from "@/lib/teams/invitations";

// GET /api/v1/teams/:team/invitations — open invitations (owners)
export const GET = api<{ team: string }>(async (req, { params }) => ({ invitations: await listInvitations(await authenticate(req.headers), params.team) }));

// POST /api/v1/teams/:team/invitations — invite by email { email, role }; the link is in this response only
export const POST = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return json(await inviteMember(principal, params.team, await parseBody(req, inviteInput), webEnv().SLUICE_URL), 201);
});
