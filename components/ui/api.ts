/** Calls the REST API from client components; throws the server's message on error. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly details?: { path: string[]; message: string }[],
  ) {
    super(message);
  }
}

export async function apiFetch<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? (init.body === undefined ? "GET" : "POST");
  const res = await fetch(path, {
    method,
    // The server takes state changes only as JSON (its CSRF guard), a body-less DELETE too.
    headers: method === "GET" ? undefined : { "content-type": "application/json" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const err = data?.error ?? data;
    throw new ApiError(err?.message ?? `Request failed (${res.status})`, res.status, err?.details);
  }
  return data as T;
}
