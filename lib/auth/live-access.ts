import { randomUUID } from "node:crypto";
import { AppError } from "@/lib/errors";
import { QUEUE_PREFIX } from "@/lib/queue/contracts";
import { redis } from "@/lib/redis/client";
import type { Principal } from "./principal";

/**
 * Live streams (a stream's SSE tail, a pipeline's live preview) outlive the
 * request that opened them: access is checked when they open, but a grant can
 * be revoked, a member removed from the team, a token revoked or a session
 * signed out while they stream. So an open stream re-checks its caller every
 * few seconds and ends with an error event when the answer changes; it also
 * has a maximum duration, and each user may have only a few open at once
 * (slots in Redis, shared by every web process). docs/security.md.
 */

/** A live stream that reached its maximum duration; the SSE error event carries `code: "expired"`. */
export class LiveStreamExpired extends Error {
  readonly code = "expired";
  constructor(message: string) {
    super(message);
    this.name = "LiveStreamExpired";
  }
}

export interface LiveGuard {
  /** Throws (an AppError) when the caller may no longer see the stream. */
  check: () => Promise<void>;
  recheckMs: number;
  /** Ends the stream with LiveStreamExpired after this long. */
  maxLifetimeMs?: number;
  expiredMessage?: string;
  /** After each successful check (renews the caller's slot). */
  renewed?: () => Promise<void>;
}

/**
 * Wraps a live stream: re-checks access every `recheckMs` and enforces the
 * maximum duration. When either fails, the inner stream is aborted and the
 * failure is thrown to the consumer at once — even while the inner stream is
 * waiting on the broker — so the SSE response sends it as its last event.
 */
export async function* guardLive<T>(produce: (signal: AbortSignal) => AsyncIterable<T>, outer: AbortSignal, guard: LiveGuard): AsyncGenerator<T> {
  const inner = new AbortController();
  const onOuter = () => inner.abort();
  outer.addEventListener("abort", onOuter);
  let reject!: (e: unknown) => void;
  const failed = new Promise<never>((_, r) => (reject = r));
  failed.catch(() => undefined);
  let done = false;
  const fail = (e: unknown) => {
    if (done) return;
    done = true;
    inner.abort();
    reject(e);
  };
  let checking = false;
  const recheck = setInterval(() => {
    if (checking || done) return;
    checking = true;
    guard
      .check()
      .then(() => guard.renewed?.())
      .catch(fail)
      .finally(() => (checking = false));
  }, guard.recheckMs);
  const expiry = guard.maxLifetimeMs === undefined ? undefined : setTimeout(() => fail(new LiveStreamExpired(guard.expiredMessage ?? "This live stream reached its maximum duration; open it again to go on.")), guard.maxLifetimeMs);
  const it = produce(inner.signal)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await Promise.race([it.next(), failed]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    done = true;
    clearInterval(recheck);
    clearTimeout(expiry);
    outer.removeEventListener("abort", onOuter);
    inner.abort();
    // Not awaited: a generator waiting on the broker finishes its step first, then sees the abort.
    void it.return?.(undefined)?.catch(() => undefined);
  }
}

/** Whose slots a live stream takes: a user's, with every token they created; a token without a creator its own. */
export function slotOwner(p: Principal): string {
  if (p.kind === "user") return `user:${p.userId}`;
  return p.createdById ? `user:${p.createdById}` : `token:${p.tokenId}`;
}

export const slotKey = (kind: string, owner: string) => `${QUEUE_PREFIX}:live:${kind}:${owner}`;

// Drops expired leases, then takes one if fewer than the limit are held. Atomic, so two web
// processes cannot both take the last slot.
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

export interface LiveSlot {
  renew(): Promise<void>;
  release(): Promise<void>;
}

/**
 * Takes one of `limit` slots of `kind` for the caller, or refuses with 429.
 * A slot is a lease that lives `ttlMs` unless renewed, so a web process that
 * dies does not keep its users' slots.
 */
export async function acquireLiveSlot(principal: Principal, kind: "tail" | "preview", limit: number, ttlMs: number, what: string): Promise<LiveSlot> {
  return acquireSlot(slotKey(kind, slotOwner(principal)), limit, ttlMs, `You already have ${limit} ${what} open, the most one user may have at once. Close one (another tab, or a command still running) and try again.`);
}

/**
 * One of `limit` leases under `key` (any kind of concurrent work: a team's UDF
 * test runs, all test runs of the installation…), or `rate_limited` with `refusal`.
 */
export async function acquireSlot(key: string, limit: number, ttlMs: number, refusal: string): Promise<LiveSlot> {
  const id = randomUUID();
  const now = Date.now();
  const ok = await redis().eval(ACQUIRE, 1, key, String(now), String(limit), String(now + ttlMs), id, String(ttlMs * 2));
  if (ok !== 1) throw new AppError("rate_limited", refusal);
  return {
    renew: async () => {
      await redis().multi().zadd(key, "XX", Date.now() + ttlMs, id).pexpire(key, ttlMs * 2).exec();
    },
    release: async () => {
      await redis().zrem(key, id);
    },
  };
}

const g = globalThis as unknown as { sluiceLiveTails?: number };

/** Counts this process's open tails against `limit` (each polls the broker); returns the release. */
export function takeProcessTail(limit: number): () => void {
  const open = g.sluiceLiveTails ?? 0;
  if (open >= limit) throw new AppError("unavailable", `This server is serving its maximum of ${limit} live tails. Try again in a minute.`);
  g.sluiceLiveTails = open + 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    g.sluiceLiveTails = (g.sluiceLiveTails ?? 1) - 1;
  };
}
