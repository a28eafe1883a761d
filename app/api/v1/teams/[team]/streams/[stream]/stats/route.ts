import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { streamStats } from "@/lib/warehouse/stats";

export const dynamic = "force-dynamic";

// GET /api/v1/teams/:team/streams/:stream/stats — records/s, records, estimated bytes, last record time (teams that may read it)
export const GET = api<{ team: string; stream: string }>(async (req, { params }) => streamStats(await authenticate(req.headers), params.team, params.stream));
