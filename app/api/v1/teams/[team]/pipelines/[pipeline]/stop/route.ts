import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { stop } from "@/lib/pipelines/deployments";

// POST /api/v1/teams/:team/pipelines/:pipeline/stop — stop every task at a committed point
export const POST = api<{ team: string; pipeline: string }>(async (req, { params }) => stop(await authenticate(req.headers), params.team, params.pipeline));
