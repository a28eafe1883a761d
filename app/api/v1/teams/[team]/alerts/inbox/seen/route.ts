import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { markInboxSeen } from "@/lib/alerts/inbox";

export const dynamic = "force-dynamic";

// POST /api/v1/teams/:team/alerts/inbox/seen — mark the inbox read up to now (clears the badge)
export const POST = api<{ team: string }>(async (req, { params }) => markInboxSeen(await authenticate(req.headers), params.team));
