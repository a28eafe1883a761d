/**
 * Prisma's query interpreter (the `queryCompiler` client engine, 6.19 and 7.x)
 * loads a query's relations concurrently (a `Promise.all` over a join's
 * children, e.g. `create({ …, include: { ownerTeam, schemas } })`). Inside an
 * interactive transaction every query goes to the transaction's one pg
 * connection, and pg ≥ 8.19 warns on each process's first overlap ("Calling
 * client.query() when the client is already executing a query is deprecated")
 * — printed by every CLI command that writes — and pg 9 will refuse it.
 *
 * pg ran such queries one after another anyway (its client queues them), so
 * queueing them here instead changes no result and no timing: it only moves
 * the queue out of the deprecated path. Queries outside transactions go to the
 * pool (one connection each) and are left alone. Upstream: prisma/orm#29468
 * and #29979 (open as of adapter-pg 7.10).
 */
interface Queryable {
  queryRaw(query: unknown): Promise<unknown>;
  executeRaw(query: unknown): Promise<unknown>;
}
interface Adapter {
  startTransaction(...args: never[]): Promise<Queryable>;
}
interface AdapterFactory {
  connect(): Promise<Adapter>;
}

/** A view of `target` whose `overrides` replace its own members; everything else is the target's, bound to it. */
function override<T extends object>(target: T, overrides: Partial<Record<PropertyKey, unknown>>): T {
  return new Proxy(target, {
    get(t, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop];
      const v = Reflect.get(t, prop, t);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}

/** Runs a transaction's queries strictly one at a time, in the order they were issued. */
export function serialized<T extends Queryable>(tx: T): T {
  let tail: Promise<unknown> = Promise.resolve();
  const queue = (run: () => Promise<unknown>) => {
    const next = tail.then(run);
    tail = next.catch(() => undefined);
    return next;
  };
  return override(tx, {
    queryRaw: (q: unknown) => queue(() => tx.queryRaw(q)),
    executeRaw: (q: unknown) => queue(() => tx.executeRaw(q)),
  });
}

export function serializeTransactionQueries<F extends AdapterFactory>(factory: F): F {
  return override(factory, {
    connect: async () => {
      const adapter = await factory.connect();
      return override(adapter, { startTransaction: async (...args: never[]) => serialized(await adapter.startTransaction(...args)) });
    },
  });
}
