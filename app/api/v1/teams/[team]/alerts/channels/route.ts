import { api, json, parseBody } from "@/lib/api/handler";
import { authenticate } from "@/lib/auth/principal";
import { channelInput, createChannel, listChannels } from "@/lib/alerts/rules";

export const dynamic = "force-dynamic";

// GET /api/v1/teams/:team/alerts/channels — webhook and e-mail channels (webhook URLs shown as scheme and host)
export const GET = api<{ team: string }>(async (req, { params }) => ({ channels: await listChannels(await authenticate(req.headers), params.team) }));

// POST /api/v1/teams/:team/alerts/channels — create a channel; a webhook's signing secret is in this answer only (editors)
export const POST = api<{ team: string }>(async (req, { params }) => json(await createChannel(await authenticate(req.headers), params.team, await parseBody(req, channelInput)), 201));
