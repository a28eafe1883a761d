import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { resume } from "@/lib/pipelines/deployments";

// POST /api/v1/teams/:team/pipelines/:pipeline/resume — run the deployed version again from the committed offsets
export const POST = api<{ team: string; pipeline: string }>(async (req, { params }) => resume(await authenticate(req.headers), params.team, params.pipeline));
