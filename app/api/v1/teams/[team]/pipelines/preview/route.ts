import { api, parseBody } from "@/lib/api/handler";
import { sseResponse } from "@/lib/api/sse";
import { authenticate } from "@/lib/auth/principal";
import { preparePreview, previewInput } from "@/lib/runtime/preview/start-preview";

export const dynamic = "force-dynamic";

// POST /api/v1/teams/:team/pipelines/preview — run an unsaved graph on sample records; events over SSE (access re-checked while open)
export const POST = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  const events = await preparePreview(principal, params.team, await parseBody(req, previewInput), { reauthenticate: () => authenticate(req.headers) });
  return sseResponse(req, events, "preview");
});
