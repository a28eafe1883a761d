import { api, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { graphFromSql, sqlToGraphInput } from "@/lib/pipelines/sql";

// POST /api/v1/teams/:team/pipelines/from-sql — Sluice SQL → laid-out graph, with every diagnostic placed at its SQL line and column
export const POST = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return graphFromSql(principal, params.team, await parseBody(req, sqlToGraphInput));
});
