import { z } from "zod";
import { api } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { getVersion } from "@/lib/pipelines/pipelines";

// GET /api/v1/teams/:team/pipelines/:pipeline/versions/:version — one version's definition
export const GET = api<{ team: string; pipeline: string; version: string }>(async (req, { params }) =>
  getVersion(await authenticate(req.headers), params.team, params.pipeline, z.coerce.number().int().positive().parse(params.version)),
);
