import { AppError } from "@/lib/errors";

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Cross-site request forgery guard for `/api/v1`. A browser attaches the
 * session cookie to any request to the app — also a form or `text/plain`
 * fetch sent by another site's page (another port or subdomain of the same
 * site gets even SameSite=Lax cookies). Such a page cannot send
 * `application/json` without a CORS preflight, which the app never grants,
 * and cannot forge the browser's `Origin` or `Sec-Fetch-Site`. So a
 * cookie-authenticated state change must be JSON from the app's own origin.
 * Bearer-token requests are exempt: browsers never add that header on their
 * own. better-auth's routes (`/api/auth/*`) check the origin themselves.
 */
export function requireSameOriginJson(req: Request, appOrigin: () => string): void {
  if (!STATE_CHANGING.has(req.method.toUpperCase())) return;
  const h = req.headers;
  if (h.has("authorization") || !h.has("cookie")) return;

  const mediaType = h.get("content-type")?.split(";")[0].trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new AppError("unsupported_media_type", "Requests that change data must send a JSON body with `Content-Type: application/json`.");
  }
  // Browsers send Sec-Fetch-Site on every request (and it cannot be set by a page); clients that are
  // not browsers have no ambient cookie to abuse, but must then say where they come from with Origin.
  const site = h.get("sec-fetch-site");
  const origin = appOrigin();
  const sameOrigin = site ? site === "same-origin" : h.get("origin") === origin;
  if (!sameOrigin) {
    throw new AppError(
      "forbidden",
      `Cross-site request refused: with a session cookie, requests that change data must come from the Sluice web app (${origin}). Scripts and other sites should use an API token (\`Authorization: Bearer slc_…\`).`,
    );
  }
}
