import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { createFromSqlInput, createPipelineFromSql } from "@/lib/pipelines/sql";

// POST /api/v1/teams/:team/pipelines/new-from-sql — create a pipeline whose version 1 is built from SQL (nothing is created while it has errors)
export const POST = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return json(await createPipelineFromSql(principal, params.team, await parseBody(req, createFromSqlInput)), 201);
});
