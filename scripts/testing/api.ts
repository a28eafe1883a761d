import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import * as authRoute from "@/app/api/auth/[...all]/route";
import { CLIENT_ADDRESS_HEADER, declareClientAddressResolved } from "@/lib/auth/client-address";
import * as teamsRoute from "@/app/api/v1/teams/route";
import * as pipelinesRoute from "@/app/api/v1/teams/[team]/pipelines/route";
import * as versionsRoute from "@/app/api/v1/teams/[team]/pipelines/[pipeline]/versions/route";

/**
 * Helpers for integration tests that call route handlers in-process, exactly as
 * Next would (Request in, Response out), against the harness's real services.
 */
export const BASE = "http://localhost:3000";

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export interface Caller {
  headers: Record<string, string>;
}

type RouteFn = (req: Request, ctx: { params: Promise<any> }) => Promise<Response>;

export async function call(
  fn: RouteFn,
  opts: { method?: string; path?: string; caller?: Caller; body?: unknown; rawBody?: string; params?: Record<string, string> } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { origin: BASE, ...(opts.caller?.headers ?? {}) };
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) body = JSON.stringify(opts.body);
  const method = opts.method ?? (body === undefined ? "GET" : "POST");
  // As the web app sends them: every state change as JSON, unless the caller's headers say otherwise.
  if (method !== "GET" && !Object.keys(headers).some((k) => k.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  const res = await fn(new Request(BASE + (opts.path ?? "/"), { method, headers, body }), {
    params: Promise.resolve(opts.params ?? {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

// In-process route calls stand where scripts/web-server.ts stands: they set the resolved client address themselves.
declareClientAddressResolved();

/** Calls better-auth's endpoints; each test user gets its own client address so rate limits don't collide. */
export async function authRequest(path: string, body: unknown, ip: string): Promise<Response> {
  return authRoute.POST(
    new Request(`${BASE}/api/auth${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: BASE, [CLIENT_ADDRESS_HEADER]: ip },
      body: JSON.stringify(body),
    }),
  );
}

function randomIp(): string {
  const b = () => Math.floor(Math.random() * 250) + 1;
  return `10.${b()}.${b()}.${b()}`;
}

export function sessionCookie(res: Response): string {
  const cookies = res.headers.getSetCookie().map((c) => c.split(";")[0]);
  if (!cookies.length) throw new Error(`no session cookie (status ${res.status})`);
  return cookies.join("; ");
}

export interface TestUser extends Caller {
  email: string;
  password: string;
  ip: string;
}

export async function signUp(name = uniqueName("user")): Promise<TestUser> {
  const email = `${name}@example.test`;
  const password = "correct horse battery staple";
  const ip = randomIp();
  const res = await authRequest("/sign-up/email", { email, password, name }, ip);
  if (res.status !== 200) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`);
  return { email, password, ip, headers: { cookie: sessionCookie(res) } };
}

export const bearer = (token: string): Caller => ({ headers: { authorization: `Bearer ${token}` } });

/** A new user who owns a new team; `slug` is both the team's slug and its name. */
export async function signUpWithTeam(slug: string): Promise<TestUser> {
  const user = await signUp();
  const res = await call(teamsRoute.POST, { caller: user, body: { name: slug, slug } });
  if (res.status !== 201) throw new Error(`team creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return user;
}

/** Creates pipeline `name` in `team` and saves `definition` as its next version, expecting both to succeed. */
export async function createPipelineWithVersion(caller: Caller, team: string, name: string, definition: unknown, message?: string): Promise<void> {
  expect((await call(pipelinesRoute.POST, { caller, params: { team }, body: { name } })).status).toBe(201);
  const saved = await call(versionsRoute.POST, { caller, params: { team, pipeline: name }, body: { pipeline: definition, message } });
  expect(saved.status, JSON.stringify(saved.body)).toBe(201);
}

/** A pipeline that copies stream `from` to stream `to`: Source → Sink. */
export const copyPipeline = (from: string, to: string) => ({
  version: 1,
  nodes: [
    { id: "s", type: "source", config: { stream: from }, position: { x: 0, y: 0 } },
    { id: "o", type: "sink", config: { stream: to }, position: { x: 1, y: 0 } },
  ],
  edges: [{ source: "s", target: "o" }],
});

/** Polls `fn` every 250 ms until `ok` holds; the timeout error shows the last value. */
export async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last value ${JSON.stringify(last).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await fn();
  }
  return last;
}
