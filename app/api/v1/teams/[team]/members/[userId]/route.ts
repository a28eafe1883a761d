import { api, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { changeMemberRole, removeMember } from "@/lib/teams/members";
import { changeRoleInput } from "@/lib/teams/schemas";

type Params = { team: string; userId: string };

// PATCH /api/v1/teams/:team/members/:userId — change a member's role (owners)
export const PATCH = api<Params>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  const { role } = await parseBody(req, changeRoleInput);
  await changeMemberRole(principal, params.team, params.userId, role);
  return { ok: true };
});

// DELETE /api/v1/teams/:team/members/:userId — remove a member (owners) or leave (yourself)
export const DELETE = api<Params>(async (req, { params }) => {
  await removeMember(await authenticate(req.headers), params.team, params.userId);
  return { ok: true };
});
