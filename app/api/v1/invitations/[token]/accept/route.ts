import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { acceptInvitation } from "@/lib/teams/invitations";

// POST /api/v1/invitations/:token/accept — join the team (signed in with the invited email)
export const POST = api<{ token: string }>(async (req, { params }) => acceptInvitation(await authenticate(req.headers), params.token));
