import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { deleteChannel } from "@/lib/alerts/rules";

export const dynamic = "force-dynamic";

// DELETE /api/v1/teams/:team/alerts/channels/:channel — delete a channel (editors)
export const DELETE = api<{ team: string; channel: string }>(async (req, { params }) => {
  await deleteChannel(await authenticate(req.headers), params.team, params.channel);
  return { ok: true };
});
