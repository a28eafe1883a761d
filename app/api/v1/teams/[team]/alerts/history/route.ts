import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { alertHistory } from "@/lib/alerts/inbox";

export const dynamic = "force-dynamic";

// GET /api/v1/teams/:team/alerts/history[?rule=&limit=] — every state transition with its deliveries
export const GET = api<{ team: string }>(async (req, { params }) => {
  const q = new URL(req.url).searchParams;
  return { events: await alertHistory(await authenticate(req.headers), params.team, { rule: q.get("rule") ?? undefined, limit: Number(q.get("limit") ?? 100) || 100 }) };
});
