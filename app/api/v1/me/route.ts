import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { listTeams } from "@/lib/teams/teams";

// GET /api/v1/me — who is calling and which teams they can act in
export const GET = api(async (req) => {
  const principal = await authenticate(req.headers);
  const teams = await listTeams(principal);
  return principal.kind === "user"
    ? { kind: "user", user: { id: principal.userId, email: principal.email, name: principal.name }, teams }
    : { kind: "token", tokenId: principal.tokenId, teams };
});
