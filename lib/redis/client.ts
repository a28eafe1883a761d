import { Redis, type RedisOptions } from "ioredis";

const globalForRedis = globalThis as unknown as { sluiceRedis?: Redis };

/** Options BullMQ needs on its connections (blocking commands must not time out). */
export const bullmqRedisOptions: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true };

export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error("REDIS_URL is not set: start Sluice with `npm start` or point REDIS_URL at a Redis server.");
  return url;
}

export function createRedis(opts: RedisOptions = {}): Redis {
  return new Redis(redisUrl(), { lazyConnect: false, ...opts });
}

/** Shared connection for plain commands (not for BullMQ's blocking workers). */
export function redis(): Redis {
  globalForRedis.sluiceRedis ??= createRedis({ maxRetriesPerRequest: 2 });
  return globalForRedis.sluiceRedis;
}

export async function closeRedis(): Promise<void> {
  await globalForRedis.sluiceRedis?.quit().catch(() => {});
  globalForRedis.sluiceRedis = undefined;
}
