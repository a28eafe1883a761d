import { api, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { changeMemberRole, removeMember } from "@/lib/teams/members";
import { changeRoleInput } from "@/lib/teams/schemas";

type Params = { team: string; userId: string };

// PATCH /api/v1/teams/:team/members/:userId — change a member's role (owners); { ok, revokedTokens } names the member's tokens a demotion revoked
export const PATCH = api<Params>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  const { role } = await parseBody(req, changeRoleInput);
  return { ok: true, ...(await changeMemberRole(principal, params.team, params.userId, role)) };
});

// DELETE /api/v1/teams/:team/members/:userId — remove a member (owners) or leave (yourself); the member's tokens in the team are revoked
export const DELETE = api<Params>(async (req, { params }) => ({ ok: true, ...(await removeMember(await authenticate(req.headers), params.team, params.userId)) }));
