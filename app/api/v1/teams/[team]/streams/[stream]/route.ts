import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { deleteStream, getStream } from "@/lib/warehouse/streams";

type Params = { team: string; stream: string };

// GET /api/v1/teams/:team/streams/:stream — catalog entry, schema when readable
export const GET = api<Params>(async (req, { params }) => getStream(await authenticate(req.headers), params.team, params.stream));

// DELETE /api/v1/teams/:team/streams/:stream — delete the stream and its records (owner team)
export const DELETE = api<Params>(async (req, { params }) => {
  await deleteStream(await authenticate(req.headers), params.team, params.stream);
  return { ok: true };
});
