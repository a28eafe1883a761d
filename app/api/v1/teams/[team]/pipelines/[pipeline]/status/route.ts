import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { pipelineStatus } from "@/lib/pipelines/status";

export const dynamic = "force-dynamic";

// GET /api/v1/teams/:team/pipelines/:pipeline/status — desired vs actual state, tasks, lag, throughput, last error
export const GET = api<{ team: string; pipeline: string }>(async (req, { params }) => pipelineStatus(await authenticate(req.headers), params.team, params.pipeline));
