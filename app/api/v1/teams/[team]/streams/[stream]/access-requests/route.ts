import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { accessRequestInput, requestAccess } from "@/lib/warehouse/grants";

// POST /api/v1/teams/:team/streams/:stream/access-requests — ask the owner team for read access { reason }
export const POST = api<{ team: string; stream: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return json(await requestAccess(principal, params.team, params.stream, await parseBody(req, accessRequestInput)), 201);
});
