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
 * carry the hash: it is shown as `h:<hash>`, and only deletes accept that form
 * back (so "sign out other sessions" works), never a lookup — a cookie made
 * from a stolen hash finds nothing.
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

type Row = Record<string, unknown> | null | undefined;
type AnyAdapter = DBAdapter | DBTransactionAdapter;

/** Where clauses with session tokens hashed; `raw` collects hash → raw token to restore in results. */
function hashWhere(where: Where[] | undefined, raw: Map<string, string>, acceptListed: boolean): Where[] | undefined {
  if (!where) return where;
  const one = (v: unknown): unknown => {
    if (typeof v !== "string") return v;
    if (v.startsWith(LISTED)) return acceptListed ? v.slice(LISTED.length) : hashSessionToken(v); // a hash of a hash matches nothing
    const h = hashSessionToken(v);
    raw.set(h, v);
    return h;
  };
  return where.map((w) => (w.field === FIELD ? { ...w, value: (Array.isArray(w.value) ? w.value.map(one) : one(w.value)) as Where["value"] } : w));
}

function present(row: Row, raw: Map<string, string>): Row {
  if (!row || typeof row[FIELD] !== "string") return row;
  const stored = row[FIELD] as string;
  return { ...row, [FIELD]: raw.get(stored) ?? `${LISTED}${stored}` };
}

function hashData<T extends Record<string, unknown> | undefined>(data: T): T {
  return data && typeof data[FIELD] === "string" ? { ...data, [FIELD]: hashSessionToken(data[FIELD] as string) } : data;
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
      return present((await inner.findOne({ ...q, where: hashWhere(q.where, raw, false)! })) as Row, raw) as never;
    },
    findMany: async (q) => {
      if (!isSession(q.model)) return inner.findMany(q);
      const raw = new Map<string, string>();
      return ((await inner.findMany({ ...q, where: hashWhere(q.where, raw, false) })) as Row[]).map((r) => present(r, raw)) as never;
    },
    count: async (q) => (isSession(q.model) ? inner.count({ ...q, where: hashWhere(q.where, new Map(), false) }) : inner.count(q)),
    update: async (q) => {
      if (!isSession(q.model)) return inner.update(q);
      const raw = new Map<string, string>();
      return present((await inner.update({ ...q, where: hashWhere(q.where, raw, false)!, update: hashData(q.update) })) as Row, raw) as never;
    },
    updateMany: async (q) => (isSession(q.model) ? inner.updateMany({ ...q, where: hashWhere(q.where, new Map(), false)!, update: hashData(q.update) }) : inner.updateMany(q)),
    delete: async (q) => (isSession(q.model) ? inner.delete({ ...q, where: hashWhere(q.where, new Map(), true)! }) : inner.delete(q)),
    deleteMany: async (q) => (isSession(q.model) ? inner.deleteMany({ ...q, where: hashWhere(q.where, new Map(), true)! }) : inner.deleteMany(q)),
    consumeOne: async (q) => {
      if (!isSession(q.model)) return inner.consumeOne(q);
      const raw = new Map<string, string>();
      return present((await inner.consumeOne({ ...q, where: hashWhere(q.where, raw, true)! })) as Row, raw) as never;
    },
    incrementOne: async (q) => {
      if (!isSession(q.model)) return inner.incrementOne(q);
      const raw = new Map<string, string>();
      return present((await inner.incrementOne({ ...q, where: hashWhere(q.where, raw, false)!, set: hashData(q.set) })) as Row, raw) as never;
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
