import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { listInbox } from "@/lib/alerts/inbox";

export const dynamic = "force-dynamic";

// GET /api/v1/teams/:team/alerts/inbox[?limit=] — firings and resolutions, newest first, with the caller's unread count
export const GET = api<{ team: string }>(async (req, { params }) => {
  const limit = Number(new URL(req.url).searchParams.get("limit") ?? 100);
  return listInbox(await authenticate(req.headers), params.team, { limit: Number.isFinite(limit) && limit > 0 ? limit : 100 });
});
