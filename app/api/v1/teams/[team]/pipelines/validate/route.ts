import { z } from "zod";
import { api, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { requireTeamRole } from "@/lib/auth/team-access";
import { checkPipeline } from "@/lib/pipelines/pipelines";

// POST /api/v1/teams/:team/pipelines/validate — diagnostics and per-node schemas for an unsaved graph
export const POST = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  const { team } = await requireTeamRole(principal, params.team, "viewer");
  const { pipeline } = await parseBody(req, z.object({ pipeline: z.unknown() }));
  const { diagnostics, schemas } = await checkPipeline(team.id, pipeline);
  return { diagnostics, schemas };
});
