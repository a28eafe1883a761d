import { ZodError, type z } from "zod";
import { AppError, statusOf } from "@/lib/errors";
import { webEnv } from "@/lib/env/web";
import { requireSameOriginJson } from "./csrf";
import { explainKafkaConnectionError } from "@/lib/kafka/security";
import { moduleLogger } from "@/lib/log/logger";
import { readJsonBody } from "./body";

const log = moduleLogger("api");

export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function json(body: unknown, status = 200, headers?: HeadersInit): Response {
  return new Response(JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? v.toString() : v)), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

function zodDetails(e: ZodError) {
  return e.issues.map((i) => ({ path: i.path.map(String), message: i.message }));
}

/** Maps anything thrown by a handler to a JSON error; never leaks stacks or internals. */
export function errorResponse(e: unknown): Response {
  if (e instanceof AppError) {
    return json({ error: { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) } } satisfies ApiErrorBody, statusOf[e.code]);
  }
  if (e instanceof ZodError) {
    return json({ error: { code: "invalid_input", message: "The request is invalid: see details for each field.", details: zodDetails(e) } }, 422);
  }
  const kafka = explainKafkaConnectionError(e);
  if (kafka) {
    // The broker's address and the TLS/SASL details go to the log, not to every user.
    log.error({ err: e, hint: kafka.hint }, kafka.summary);
    return json({ error: { code: "unavailable", message: `The streaming warehouse is unavailable: ${kafka.summary}. An operator should check Sluice's Kafka settings (${kafka.hint}). Try again later.` } }, 503);
  }
  if (isPostgresNulError(e)) {
    return json({ error: { code: "bad_request", message: "The request has a NUL character (\\u0000) in a text that Sluice stores in its database, which cannot hold one: remove it." } } satisfies ApiErrorBody, 400);
  }
  log.error({ err: e }, "unhandled error in API route");
  return json({ error: { code: "internal", message: "Something went wrong on our side; the error was logged." } }, 500);
}

/**
 * Postgres refuses a NUL character in text (22021) and in jsonb (22P05,
 * "unsupported Unicode escape sequence"). Input that carries one into the
 * catalog (a description, a pipeline's expression, a version message) is the
 * caller's mistake, not ours: a 400 for every route, whichever field it was.
 */
function isPostgresNulError(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    const message = c instanceof Error ? c.message : typeof c === "string" ? c : "";
    if (/invalid byte sequence for encoding "UTF8": 0x00|unsupported Unicode escape sequence|\\u0000 cannot be converted to text/.test(message)) return true;
    const code = (c as { code?: unknown; meta?: { code?: unknown } }).meta?.code ?? (c as { code?: unknown }).code;
    if (code === "22021" || code === "22P05") return true;
  }
  return false;
}

type Handler<P> = (req: Request, ctx: { params: P }) => Promise<Response | unknown>;

/**
 * Path parameters are names and ids: a control character (`%00` decodes to
 * NUL, which Postgres refuses in text) is never part of one, so it is a 400
 * here rather than a database error (500) further down; nor is a NUL in a
 * query value.
 */
function checkParams(params: unknown, url: string): void {
  for (const [name, value] of Object.entries((params ?? {}) as Record<string, unknown>)) {
    if (typeof value === "string" && /[\u0000-\u001f\u007f]/.test(value)) {
      throw new AppError("bad_request", `The path parameter "${name}" contains a control character; names and ids never do.`, [{ path: [name], message: "control character" }]);
    }
  }
  // Query values are free text (a search may hold a tab), but never a NUL: Postgres cannot compare text with one.
  for (const [name, value] of new URL(url).searchParams) {
    if (name.includes("\u0000") || value.includes("\u0000")) {
      throw new AppError("bad_request", `The query parameter "${name.replace(/\u0000/g, "\\u0000")}" contains a NUL character (%00); remove it.`, [{ path: [name], message: "NUL character" }]);
    }
  }
}

/**
 * Wraps a route handler: refuses cross-site state changes (csrf.ts), awaits
 * Next's params promise, turns returned values into JSON responses and thrown
 * errors into typed JSON errors.
 */
export function api<P = Record<string, never>>(handler: Handler<P>) {
  return async (req: Request, ctx: { params: Promise<P> } = { params: Promise.resolve({} as P) }): Promise<Response> => {
    try {
      requireSameOriginJson(req, () => new URL(webEnv().SLUICE_URL).origin);
      const params = await ctx.params;
      checkParams(params, req.url);
      const result = await handler(req, { params });
      return result instanceof Response ? result : json(result ?? { ok: true });
    } catch (e) {
      return errorResponse(e);
    }
  };
}

/**
 * Parses a JSON body with a zod schema, within the body limits of
 * lib/api/body.ts (413 over the size limit, read no further; 400 for bytes
 * that are not UTF-8; 422 for malformed or too deeply nested JSON).
 */
export async function parseBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  return schema.parse(await readJsonBody(req));
}
