import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { duplicatePipeline, duplicatePipelineInput } from "@/lib/pipelines/duplicate-pipeline";

// POST /api/v1/teams/:team/pipelines/:pipeline/duplicate — copy the latest version into a new pipeline { name, description? }
export const POST = api<{ team: string; pipeline: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return json(await duplicatePipeline(principal, params.team, params.pipeline, await parseBody(req, duplicatePipelineInput)), 201);
});
