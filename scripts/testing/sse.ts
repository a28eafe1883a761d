/** One Server-Sent Event as a test reads it. */
export interface SseEvent {
  event: string;
  data: any;
}

/**
 * Reads an SSE response until it ends, `until(event)` says stop, `signal`
 * aborts, or `timeoutMs` passes; in the last three cases the body is
 * cancelled, as a browser leaving the page does. Returns the events in order
 * and how the read ended.
 */
export async function readSse(
  res: Response,
  opts: { until?: (e: SseEvent, all: SseEvent[]) => boolean; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<{ events: SseEvent[]; ended: "end" | "until" | "aborted" | "timeout" }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buf = "";
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const stop = async (ended: "until" | "aborted" | "timeout") => {
    await reader.cancel().catch(() => undefined);
    return { events, ended };
  };
  for (;;) {
    if (opts.signal?.aborted) return stop("aborted");
    const left = deadline - Date.now();
    if (left <= 0) return stop("timeout");
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const next = await Promise.race([
      reader.read(),
      new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), left))),
      new Promise<"aborted">((r) => {
        onAbort = () => r("aborted");
        opts.signal?.addEventListener("abort", onAbort);
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener("abort", onAbort);
    if (next === "timeout" || next === "aborted") return stop(next);
    if (next.done) return { events, ended: "end" };
    buf += decoder.decode(next.value, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const chunk = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = chunk.split("\n").find((l) => l.startsWith("event: "))?.slice(7);
      const data = chunk.split("\n").find((l) => l.startsWith("data: "))?.slice(6);
      if (!event || data === undefined) continue;
      const e = { event, data: JSON.parse(data) };
      events.push(e);
      if (opts.until?.(e, events)) return stop("until");
    }
  }
}
