import { api } from "@/lib/api/handler";
import { sseResponse } from "@/lib/api/sse";
import { authenticate } from "@/lib/auth/principal";
import { openTail } from "@/lib/warehouse/records";

export const dynamic = "force-dynamic";

// GET /api/v1/teams/:team/streams/:stream/tail — live records over Server-Sent Events (access re-checked while open)
export const GET = api<{ team: string; stream: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  // Access and the caller's tail slot are checked before the stream opens, so refusals are ordinary JSON errors.
  const tail = await openTail(principal, params.team, params.stream, { reauthenticate: () => authenticate(req.headers) });
  return sseResponse(req, tail, "records");
});
