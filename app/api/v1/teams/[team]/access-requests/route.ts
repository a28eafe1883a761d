import { z } from "zod";
import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { listIncoming, listOutgoing } from "@/lib/warehouse/grants";

const query = z.object({
  direction: z.enum(["incoming", "outgoing"]).default("incoming"),
  status: z.enum(["requested", "approved", "rejected", "revoked"]).optional(),
});

// GET /api/v1/teams/:team/access-requests?direction=incoming|outgoing&status= — requests on our streams, or ours on others'
export const GET = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  const q = query.parse(Object.fromEntries(new URL(req.url).searchParams));
  return { requests: q.direction === "incoming" ? await listIncoming(principal, params.team, q.status) : await listOutgoing(principal, params.team) };
});
