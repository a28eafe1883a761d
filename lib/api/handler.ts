import { ZodError, type z } from "zod";
import { AppError, statusOf } from "@/lib/errors";
import { explainKafkaConnectionError } from "@/lib/kafka/security";
import { moduleLogger } from "@/lib/log/logger";

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
  log.error({ err: e }, "unhandled error in API route");
  return json({ error: { code: "internal", message: "Something went wrong on our side; the error was logged." } }, 500);
}

type Handler<P> = (req: Request, ctx: { params: P }) => Promise<Response | unknown>;

/**
 * Wraps a route handler: awaits Next's params promise, turns returned values
 * into JSON responses and thrown errors into typed JSON errors.
 */
export function api<P = Record<string, never>>(handler: Handler<P>) {
  return async (req: Request, ctx: { params: Promise<P> } = { params: Promise.resolve({} as P) }): Promise<Response> => {
    try {
      const result = await handler(req, { params: await ctx.params });
      return result instanceof Response ? result : json(result ?? { ok: true });
    } catch (e) {
      return errorResponse(e);
    }
  };
}

/** Parses a JSON body with a zod schema; malformed JSON is a 422 too, with a message that says so. */
export async function parseBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    const text = await req.text();
    body = text.length ? JSON.parse(text) : {};
  } catch {
    throw new AppError("invalid_input", "The request body is not valid JSON.", [{ path: [], message: "invalid JSON" }]);
  }
  return schema.parse(body);
}
