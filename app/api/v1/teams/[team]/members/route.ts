import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { addMember, listMembers } from "@/lib/teams/members";
import { addMemberInput } from "@/lib/teams/schemas";

// GET /api/v1/teams/:team/members — members and roles (any member)
export const GET = api<{ team: string }>(async (req, { params }) => ({
  members: await listMembers(await authenticate(req.headers), params.team),
}));

// POST /api/v1/teams/:team/members — add an existing user (owners)
export const POST = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return json(await addMember(principal, params.team, await parseBody(req, addMemberInput)), 201);
});
