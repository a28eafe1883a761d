import { AppError } from "@/lib/errors";

/**
 * Server-Sent Events from an async iterator. The iterator gets an AbortSignal
 * that fires when the client disconnects, so producers (Kafka readers, preview
 * jobs) stop as soon as nobody listens. A comment line every 15 s keeps
 * proxies from closing an idle stream. When the source throws, the last
 * event is `error` with `{ code, message }` and the stream closes.
 */
export function sseResponse<T>(req: Request, source: (signal: AbortSignal) => AsyncIterable<T>, event = "message"): Response {
  const abort = new AbortController();
  req.signal.addEventListener("abort", () => abort.abort());
  const encoder = new TextEncoder();
  let keepAlive: NodeJS.Timeout | undefined;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (text: string) => {
        if (!abort.signal.aborted) controller.enqueue(encoder.encode(text));
      };
      keepAlive = setInterval(() => send(": keep-alive\n\n"), 15_000);
      send(": connected\n\n");
      try {
        for await (const item of source(abort.signal)) send(`event: ${event}\ndata: ${JSON.stringify(item)}\n\n`);
        send("event: end\ndata: {}\n\n");
      } catch (e) {
        // The last event: what ended the stream (`forbidden` after a revoked grant, `expired` at its maximum duration…).
        const code = e instanceof AppError ? e.code : typeof (e as { code?: unknown })?.code === "string" ? (e as { code: string }).code : "internal";
        send(`event: error\ndata: ${JSON.stringify({ code, message: e instanceof Error ? e.message : String(e) })}\n\n`);
      } finally {
        clearInterval(keepAlive);
        if (!abort.signal.aborted) controller.close();
      }
    },
    cancel() {
      clearInterval(keepAlive);
      abort.abort();
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store, no-transform", connection: "keep-alive", "x-accel-buffering": "no" },
  });
}
