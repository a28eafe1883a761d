import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { listFunctions, saveFunction } from "@/lib/functions/functions";
import { functionVersionInput } from "@/lib/udf";

// GET /api/v1/teams/:team/functions — the team's function registry
export const GET = api<{ team: string }>(async (req, { params }) => ({ functions: await listFunctions(await authenticate(req.headers), params.team) }));

// POST /api/v1/teams/:team/functions — save a function: a new version unless source and form are unchanged
export const POST = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  const saved = await saveFunction(principal, params.team, await parseBody(req, functionVersionInput));
  return json(saved, saved.created ? 201 : 200);
});
