import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { deliveryLog } from "@/lib/alerts/inbox";

export const dynamic = "force-dynamic";

// GET /api/v1/teams/:team/alerts/deliveries[?limit=] — the delivery log: each notification and its attempts
export const GET = api<{ team: string }>(async (req, { params }) => ({
  deliveries: await deliveryLog(await authenticate(req.headers), params.team, { limit: Number(new URL(req.url).searchParams.get("limit") ?? 100) || 100 }),
}));
