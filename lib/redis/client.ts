import { Redis, type RedisOptions } from "ioredis";
import { ConfigError } from "@/lib/env/parse";
import { moduleLogger } from "@/lib/log/logger";

const log = moduleLogger("redis");

const globalForRedis = globalThis as unknown as { sluiceRedis?: Redis };

/** Options BullMQ needs on its connections (blocking commands must not time out). */
export const bullmqRedisOptions: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true };

export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new ConfigError("REDIS_URL is not set: start Sluice with `npm start` or point REDIS_URL at a Redis server.");
  return url;
}

export function createRedis(opts: RedisOptions = {}): Redis {
  const client = new Redis(redisUrl(), { lazyConnect: false, ...opts });
  // ioredis reconnects by itself; without a listener every failed attempt is an "Unhandled error event".
  client.on("error", (err: Error) => log.warn({ err: err.message }, "redis connection error; reconnecting"));
  return client;
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
