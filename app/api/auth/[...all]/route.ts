import { toNextJsHandler } from "better-auth/next-js";
import { errorResponse } from "@/lib/api/handler";
import { withBodyLimit } from "@/lib/api/body";
import { auth } from "@/lib/auth/better-auth";
import { withTrustedClientAddress } from "@/lib/auth/client-address";

// /api/auth/* — sign-up, sign-in, sign-out and sessions (better-auth), keyed on the client address the web server resolved.
export async function GET(req: Request) {
  return toNextJsHandler(auth()).GET(withTrustedClientAddress(req));
}
// Bodies are read within SLUICE_MAX_BODY_BYTES before better-auth parses them (413 otherwise).
export async function POST(req: Request) {
  let limited: Request;
  try {
    limited = await withBodyLimit(withTrustedClientAddress(req));
  } catch (e) {
    return errorResponse(e);
  }
  return toNextJsHandler(auth()).POST(limited);
}
