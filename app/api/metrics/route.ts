import { api } from "@/lib/api/handler";
import { checkMetricsToken, prometheusMetrics } from "@/lib/monitor/prometheus";

export const dynamic = "force-dynamic";

// GET /api/metrics — Prometheus text format for the whole installation (Bearer SLUICE_METRICS_TOKEN)
export const GET = api(async (req) => {
  checkMetricsToken(req.headers);
  const { contentType, body } = await prometheusMetrics();
  return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
});
