import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { statsManyQuery, streamStatsMany } from "@/lib/warehouse/stats";

export const dynamic = "force-dynamic";

// GET /api/v1/teams/:team/stream-stats?streams=a,b,c — live stats of several streams (the catalog); unreadable ones are left out.
// Not under /streams/: "stats" is a valid stream name, and …/streams/stats would shadow it.
export const GET = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  const { streams } = statsManyQuery.parse(Object.fromEntries(new URL(req.url).searchParams));
  return streamStatsMany(principal, params.team, streams);
});
