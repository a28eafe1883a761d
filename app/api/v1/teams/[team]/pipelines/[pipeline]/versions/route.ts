import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { listVersions, saveVersion, saveVersionInput } from "@/lib/pipelines/pipelines";

type Params = { team: string; pipeline: string };

// GET /api/v1/teams/:team/pipelines/:pipeline/versions — saved versions, newest first
export const GET = api<Params>(async (req, { params }) => ({ versions: await listVersions(await authenticate(req.headers), params.team, params.pipeline) }));

// POST /api/v1/teams/:team/pipelines/:pipeline/versions — validate and save a new immutable version (422 with diagnostics)
export const POST = api<Params>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return json(await saveVersion(principal, params.team, params.pipeline, await parseBody(req, saveVersionInput)), 201);
});
