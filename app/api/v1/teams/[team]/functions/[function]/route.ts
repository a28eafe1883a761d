import { z } from "zod";
import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { getFunction } from "@/lib/functions/functions";

// GET /api/v1/teams/:team/functions/:function?version=N — one version's source (latest by default)
export const GET = api<{ team: string; function: string }>(async (req, { params }) => {
  const v = new URL(req.url).searchParams.get("version");
  return getFunction(await authenticate(req.headers), params.team, params.function, v ? z.coerce.number().int().positive().parse(v) : undefined);
});
