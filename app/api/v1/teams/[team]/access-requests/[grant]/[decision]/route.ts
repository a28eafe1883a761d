import { z } from "zod";
import { api, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { approveAccess, decisionInput, rejectAccess, revokeAccess } from "@/lib/warehouse/grants";

const decisions = { approve: approveAccess, reject: rejectAccess, revoke: revokeAccess };

// POST /api/v1/teams/:team/access-requests/:grant/approve|reject|revoke — the owner team decides { note? }
export const POST = api<{ team: string; grant: string; decision: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  const decision = z.enum(["approve", "reject", "revoke"]).parse(params.decision);
  const { note } = await parseBody(req, decisionInput);
  return decisions[decision](principal, params.team, params.grant, note);
});
