import { api, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { deleteStream, getStream } from "@/lib/warehouse/streams";
import { updateStream, updateStreamInput } from "@/lib/warehouse/update-stream";

type Params = { team: string; stream: string };

// GET /api/v1/teams/:team/streams/:stream — catalog entry, schema when readable
export const GET = api<Params>(async (req, { params }) => getStream(await authenticate(req.headers), params.team, params.stream));

// PATCH /api/v1/teams/:team/streams/:stream — change the markdown description { description } (owner team editors)
export const PATCH = api<Params>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return updateStream(principal, params.team, params.stream, await parseBody(req, updateStreamInput));
});

// DELETE /api/v1/teams/:team/streams/:stream?force=true — delete the stream and its records (owner team); refused while pipelines read it unless forced
export const DELETE = api<Params>(async (req, { params }) => {
  const force = new URL(req.url).searchParams.get("force") === "true";
  await deleteStream(await authenticate(req.headers), params.team, params.stream, { force });
  return { ok: true };
});
