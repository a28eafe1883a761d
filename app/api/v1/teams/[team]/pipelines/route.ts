import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { createPipeline, createPipelineInput, listPipelines } from "@/lib/pipelines/pipelines";

// GET /api/v1/teams/:team/pipelines — the team's pipelines with their deployment at a glance
export const GET = api<{ team: string }>(async (req, { params }) => ({ pipelines: await listPipelines(await authenticate(req.headers), params.team) }));

// POST /api/v1/teams/:team/pipelines — create an (empty) pipeline
export const POST = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return json(await createPipeline(principal, params.team, await parseBody(req, createPipelineInput)), 201);
});
