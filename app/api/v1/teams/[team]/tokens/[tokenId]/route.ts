import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { revokeToken } from "@/lib/tokens/tokens";

// DELETE /api/v1/teams/:team/tokens/:tokenId — revoke a token (owners)
export const DELETE = api<{ team: string; tokenId: string }>(async (req, { params }) => {
  await revokeToken(await authenticate(req.headers), params.team, params.tokenId);
  return { ok: true };
});
