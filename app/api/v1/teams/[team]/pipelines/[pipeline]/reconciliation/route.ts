import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { pipelineReconciliation } from "@/lib/monitor/reconciliation";

export const dynamic = "force-dynamic";

// GET /api/v1/teams/:team/pipelines/:pipeline/reconciliation?from&to — per-minute balance of every node and edge
export const GET = api<{ team: string; pipeline: string }>(async (req, { params }) =>
  pipelineReconciliation(await authenticate(req.headers), params.team, params.pipeline, new URL(req.url).searchParams),
);
