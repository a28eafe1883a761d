import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { newSchemaInput, publishSchemaVersion } from "@/lib/warehouse/streams";

// POST /api/v1/teams/:team/streams/:stream/schemas — publish a new schema version { schema, compatibility? } (checked for compatibility)
export const POST = api<{ team: string; stream: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return json(await publishSchemaVersion(principal, params.team, params.stream, await parseBody(req, newSchemaInput)), 201);
});
