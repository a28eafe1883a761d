import { api, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { graphToSqlInput, sqlFromGraph } from "@/lib/pipelines/sql";

// POST /api/v1/teams/:team/pipelines/to-sql — a (possibly unsaved) graph as Sluice SQL, or the nodes SQL cannot express
export const POST = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return sqlFromGraph(principal, params.team, await parseBody(req, graphToSqlInput));
});
