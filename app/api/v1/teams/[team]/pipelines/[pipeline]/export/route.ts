import { z } from "zod";
import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { exportFormat, exportPipeline } from "@/lib/pipelines/sql";

const query = z.object({ format: exportFormat.default("flink-sql"), version: z.coerce.number().int().positive().optional(), bootstrapServers: z.string().min(1).max(2_000).optional() });

// GET /api/v1/teams/:team/pipelines/:pipeline/export?format=flink-sql|sql[&version=n][&bootstrapServers=h:p] — a saved version as a SQL script
export const GET = api<{ team: string; pipeline: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  const q = query.parse(Object.fromEntries(new URL(req.url).searchParams));
  const r = await exportPipeline(principal, params.team, params.pipeline, q);
  return new Response(r.text, { headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "content-disposition": `inline; filename="${params.pipeline}-v${r.version}.${r.format === "sql" ? "sql" : "flink.sql"}"` } });
});
