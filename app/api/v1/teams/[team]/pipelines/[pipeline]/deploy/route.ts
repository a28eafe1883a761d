import { api, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { deploy, deployInput } from "@/lib/pipelines/deployments";

// POST /api/v1/teams/:team/pipelines/:pipeline/deploy — deploy or redeploy a version { version?, parallelism?, deliveryGuarantee?, resetState? }
export const POST = api<{ team: string; pipeline: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return deploy(principal, params.team, params.pipeline, await parseBody(req, deployInput));
});
