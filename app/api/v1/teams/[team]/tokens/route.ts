import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { createToken, createTokenInput, listTokens } from "@/lib/tokens/tokens";

// GET /api/v1/teams/:team/tokens — the team's API tokens, without secrets (owners)
export const GET = api<{ team: string }>(async (req, { params }) => ({
  tokens: await listTokens(await authenticate(req.headers), params.team),
}));

// POST /api/v1/teams/:team/tokens — create a token; its secret is in this response only (owners)
export const POST = api<{ team: string }>(async (req, { params }) => {
  const principal = await authenticate(req.headers);
  return json(await createToken(principal, params.team, await parseBody(req, createTokenInput)), 201);
});
