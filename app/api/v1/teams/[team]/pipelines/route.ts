import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { listPipelineOverview } from "@/lib/pipelines/overview";
import { createPipeline, createPipelineInput, listPipelines } from "@/lib/pipelines/pipelines";

// GET /api/v1/teams/:team/pipelines[?live=1] — the team's pipelines with their deployment at a glance (live: plus throughput and lag)
export const GET = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  const live = new URL(req.url).searchParams.get("live") === "1";
  return { pipelines: live ? await listPipelineOverview(principal, params.team) : await listPipelines(principal, params.team) };
});

// POST /api/v1/teams/:team/pipelines — create a pipeline: empty, or with `pipeline` (+ `message`) as version 1 — both or nothing
export const POST = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return json(await createPipeline(principal, params.team, await parseBody(req, createPipelineInput)), 201);
});
