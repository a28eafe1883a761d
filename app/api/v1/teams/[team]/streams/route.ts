import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { createStreamInput } from "@/lib/warehouse/schemas";
import { createStream, listStreams, streamFilter } from "@/lib/warehouse/streams";

// GET /api/v1/teams/:team/streams?q=&layer=&tag=&owner=&field= — the streams this team can see
export const GET = api<{ team: string }>(async (req, { params }) => {
  const q = new URL(req.url).searchParams;
  const get = (k: string) => q.get(k) || undefined;
  const streams = await listStreams(await authenticate(req.headers), params.team, streamFilter.parse({ q: get("q"), layer: get("layer"), tag: get("tag"), owner: get("owner"), field: get("field") }));
  return { streams };
});

// POST /api/v1/teams/:team/streams — create a stream (and its topic) owned by the team
export const POST = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return json(await createStream(principal, params.team, await parseBody(req, createStreamInput)), 201);
});
