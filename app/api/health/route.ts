import { json } from "@/lib/api/handler";
import { checkHealth } from "@/lib/health/check";

export const dynamic = "force-dynamic";

// GET /api/health — state and latency of every backing service; no auth.
// Always 200 while the web app itself answers: a down dependency is reported in
// the body ("degraded") rather than making orchestrators restart the web app.
export async function GET() {
  return json(await checkHealth());
}
