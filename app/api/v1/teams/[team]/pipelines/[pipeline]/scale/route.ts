import { api, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { scale, scaleInput } from "@/lib/pipelines/deployments";

// POST /api/v1/teams/:team/pipelines/:pipeline/scale — change the number of tasks { parallelism, resetState? }
export const POST = api<{ team: string; pipeline: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return scale(principal, params.team, params.pipeline, await parseBody(req, scaleInput));
});
