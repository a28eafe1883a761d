import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { deleteRule } from "@/lib/alerts/rules";

export const dynamic = "force-dynamic";

// DELETE /api/v1/teams/:team/alerts/rules/:rule — delete a rule and its history (editors)
export const DELETE = api<{ team: string; rule: string }>(async (req, { params }) => {
  await deleteRule(await authenticate(req.headers), params.team, params.rule);
  return { ok: true };
});
