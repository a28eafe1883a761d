import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { deletePipeline, getPipeline } from "@/lib/pipelines/pipelines";

type Params = { team: string; pipeline: string };

// GET /api/v1/teams/:team/pipelines/:pipeline — the pipeline and its deployment
export const GET = api<Params>(async (req, { params }) => getPipeline(await authenticate(req.headers), params.team, params.pipeline));

// DELETE /api/v1/teams/:team/pipelines/:pipeline — delete a pipeline that is not running
export const DELETE = api<Params>(async (req, { params }) => {
  await deletePipeline(await authenticate(req.headers), params.team, params.pipeline);
  return { ok: true };
});
