import { api, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { produceRecords } from "@/lib/warehouse/produce";
import { readRecords } from "@/lib/warehouse/records";
import { produceInput } from "@/lib/warehouse/schemas";

type Params = { team: string; stream: string };

// GET /api/v1/teams/:team/streams/:stream/records?partition=&fromOffset=&fromTimestamp=&toTimestamp=&limit=
export const GET = api<Params>(async (req, { params }) => {
  const query = Object.fromEntries(new URL(req.url).searchParams);
  return readRecords(await authenticate(req.headers), params.team, params.stream, query);
});

// POST /api/v1/teams/:team/streams/:stream/records — produce JSON records, all or nothing (each checked against the schema and the topic's size limit, then written in one transaction)
export const POST = api<Params>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return produceRecords(principal, params.team, params.stream, await parseBody(req, produceInput));
});
