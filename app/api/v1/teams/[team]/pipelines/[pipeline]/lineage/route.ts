import { z } from "zod";
import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { lineage } from "@/lib/warehouse/lineage";

// GET /api/v1/teams/:team/pipelines/:pipeline/lineage?depth=2 — the streams a pipeline reads and writes, and beyond
export const GET = api<{ team: string; pipeline: string }>(async (req, { params }) => {
  const depth = z.coerce.number().int().min(1).max(10).default(2).parse(new URL(req.url).searchParams.get("depth") ?? undefined);
  return lineage(await authenticate(req.headers), params.team, { pipeline: params.pipeline }, depth);
});
