import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { createRule, listRules, ruleInput } from "@/lib/alerts/rules";

export const dynamic = "force-dynamic";

// GET /api/v1/teams/:team/alerts/rules[?pipeline=] — the team's alert rules with their current state
export const GET = api<{ team: string }>(async (req, { params }) => ({
  rules: await listRules(await authenticate(req.headers), params.team, { pipeline: new URL(req.url).searchParams.get("pipeline") ?? undefined }),
}));

// POST /api/v1/teams/:team/alerts/rules — create a rule (editors)
export const POST = api<{ team: string }>(async (req, { params }) => json(await createRule(await authenticate(req.headers), params.team, await parseBody(req, ruleInput)), 201));
