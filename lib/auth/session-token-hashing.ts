import { createHash } from "node:crypto";
import type { BetterAuthOptions, DBAdapter, DBTransactionAdapter, Where } from "better-auth";

/**
 * Session tokens are stored as SHA-256 hashes (`sessions.token`), so a copy of
 * the database — even with BETTER_AUTH_SECRET beside it, as both live in
 * `.data/` — holds no usable session. better-auth 1.7 has no option for this,
 * so its database adapter is wrapped: every `token` of the `session` model
 * that goes in (created rows, where clauses, updates) is hashed, and rows
 * coming out carry the raw token again where the caller gave it (creating a
 * session, looking one up by its cookie), since better-auth signs it into the
 * cookie. A row found some other way (a user's list of sessions) can only
 * carry the hash unless this process saw its token lately (`recent`): it is
 * shown as `h:<hash>`, and only the read-then-delete of a
 * revocation accepts that form back (so "sign out other sessions" works), never
 * a cookie lookup — a cookie made from a stolen hash finds nothing.
 *
 * This relies on better-auth reading and writing sessions through the adapter
 * by `token` (internal-adapter.mjs: createSession, findSession(s), updateSession,
 * deleteSession(s)); the auth integration tests sign in, refresh, sign out and
 * check the stored column, so an upgrade that changes this fails them.
 */
const MODEL = "session";
const FIELD = "token";
const LISTED = "h:";

export const hashSessionToken = (token: string) => createHash("sha256").update(token).digest("hex");

/**
 * Raw tokens this process saw lately (created, or presented in a cookie), by
 * hash. A request's own session is always among them, so better-auth can tell
 * it apart in a list of the user's sessions ("sign out other sessions" keeps
 * the current one). Memory only, like the cookies it came from; bounded.
 */
const recent = new Map<string, string>();
const RECENT_MAX = 10_000;
function remember(hash: string, raw: string): void {
  recent.delete(hash);
  recent.set(hash, raw);
  if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!);
}

type Row = Record<string, unknown> | null | undefined;
type AnyAdapter = DBAdapter | DBTransactionAdapter;

/**
 * Where clauses with session tokens hashed; `raw` collects hash → raw token to
 * restore in results. `listed` says where the `h:<hash>` form of a listed
 * session is taken as the hash: "eq" for reads (better-auth finds a row with
 * findMany, eq, limit 1 before deleting it), "all" for deletes, "never" for
 * the rest. Cookie lookups — findOne (findSession) and findMany with `in`
 * (findSessions) — never accept it: a hash of a hash matches nothing.
 */
function hashWhere(where: Where[] | undefined, raw: Map<string, string>, listed: "never" | "eq" | "all"): Where[] | undefined {
  if (!where) return where;
  const one = (v: unknown, eq: boolean): unknown => {
    if (typeof v !== "string") return v;
    if (v.startsWith(LISTED) && (listed === "all" || (listed === "eq" && eq))) return v.slice(LISTED.length);
    const h = hashSessionToken(v);
    raw.set(h, v);
    remember(h, v);
    return h;
  };
  return where.map((w) => {
    if (w.field !== FIELD) return w;
    const eq = (w.operator ?? "eq") === "eq";
    return { ...w, value: (Array.isArray(w.value) ? w.value.map((v) => one(v, false)) : one(w.value, eq)) as Where["value"] };
  });
}

function present(row: Row, raw: Map<string, string>): Row {
  if (!row || typeof row[FIELD] !== "string") return row;
  const stored = row[FIELD] as string;
  return { ...row, [FIELD]: raw.get(stored) ?? recent.get(stored) ?? `${LISTED}${stored}` };
}

function hashData<T extends Record<string, unknown> | undefined>(data: T): T {
  if (!data || typeof data[FIELD] !== "string") return data;
  const h = hashSessionToken(data[FIELD] as string);
  remember(h, data[FIELD] as string);
  return { ...data, [FIELD]: h };
}

function wrap<A extends AnyAdapter>(inner: A): A {
  const isSession = (model: string) => model === MODEL;
  const wrapped: AnyAdapter = {
    ...inner,
    create: async (q) => {
      if (!isSession(q.model)) return inner.create(q);
      const token = (q.data as Record<string, unknown>)[FIELD];
      const row = (await inner.create({ ...q, data: hashData(q.data as Record<string, unknown>) as typeof q.data })) as Row;
      return (row && typeof token === "string" ? { ...row, [FIELD]: token } : row) as never;
    },
    findOne: async (q) => {
      if (!isSession(q.model)) return inner.findOne(q);
      const raw = new Map<string, string>();
      return present((await inner.findOne({ ...q, where: hashWhere(q.where, raw, "never")! })) as Row, raw) as never;
    },
    findMany: async (q) => {
      if (!isSession(q.model)) return inner.findMany(q);
      const raw = new Map<string, string>();
      return ((await inner.findMany({ ...q, where: hashWhere(q.where, raw, "eq") })) as Row[]).map((r) => present(r, raw)) as never;
    },
    count: async (q) => (isSession(q.model) ? inner.count({ ...q, where: hashWhere(q.where, new Map(), "never") }) : inner.count(q)),
    update: async (q) => {
      if (!isSession(q.model)) return inner.update(q);
      const raw = new Map<string, string>();
      return present((await inner.update({ ...q, where: hashWhere(q.where, raw, "never")!, update: hashData(q.update) })) as Row, raw) as never;
    },
    updateMany: async (q) => (isSession(q.model) ? inner.updateMany({ ...q, where: hashWhere(q.where, new Map(), "never")!, update: hashData(q.update) }) : inner.updateMany(q)),
    delete: async (q) => (isSession(q.model) ? inner.delete({ ...q, where: hashWhere(q.where, new Map(), "all")! }) : inner.delete(q)),
    deleteMany: async (q) => (isSession(q.model) ? inner.deleteMany({ ...q, where: hashWhere(q.where, new Map(), "all")! }) : inner.deleteMany(q)),
    consumeOne: async (q) => {
      if (!isSession(q.model)) return inner.consumeOne(q);
      const raw = new Map<string, string>();
      return present((await inner.consumeOne({ ...q, where: hashWhere(q.where, raw, "all")! })) as Row, raw) as never;
    },
    incrementOne: async (q) => {
      if (!isSession(q.model)) return inner.incrementOne(q);
      const raw = new Map<string, string>();
      return present((await inner.incrementOne({ ...q, where: hashWhere(q.where, raw, "never")!, set: hashData(q.set) })) as Row, raw) as never;
    },
  };
  if ("transaction" in inner && typeof inner.transaction === "function") {
    (wrapped as DBAdapter).transaction = (cb) => (inner as DBAdapter).transaction((trx) => cb(wrap(trx)));
  }
  return wrapped as A;
}

/** Wraps a better-auth database adapter (e.g. `prismaAdapter(…)`) so session tokens are stored hashed. */
export function withHashedSessionTokens<O extends BetterAuthOptions>(adapter: (options: O) => DBAdapter<O>): (options: O) => DBAdapter<O> {
  return (options) => wrap(adapter(options) as unknown as DBAdapter) as unknown as DBAdapter<O>;
}
