import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { pipelineMetrics } from "@/lib/monitor/pipeline-monitor";

export const dynamic = "force-dynamic";

// GET /api/v1/teams/:team/pipelines/:pipeline/metrics?range=1h|from&to[&since] — the Monitor tab's time series
export const GET = api<{ team: string; pipeline: string }>(async (req, { params }) =>
  pipelineMetrics(await authenticate(req.headers), params.team, params.pipeline, new URL(req.url).searchParams),
);
