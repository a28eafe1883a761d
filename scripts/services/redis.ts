import { mkdirSync } from "node:fs";
import { Redis } from "ioredis";
import { lineBuffer, spawnService, stopProcess, waitUntilReady, type ServiceProcess } from "./process";

export interface RedisOptions {
  dataDir: string;
  port: number;
  password: string;
  onLine?: (line: string) => void;
}

export async function startRedis(opts: RedisOptions): Promise<ServiceProcess> {
  mkdirSync(opts.dataDir, { recursive: true });
  const recent = lineBuffer();
  const child = spawnService(
    "redis-server",
    [
      "--port", String(opts.port),
      "--bind", "127.0.0.1",
      "--dir", opts.dataDir,
      "--requirepass", opts.password,
      // BullMQ requires noeviction: an evicted job key is a lost task.
      "--maxmemory-policy", "noeviction",
      "--appendonly", "yes",
      "--appendfsync", "everysec",
      "--save", "",
      "--daemonize", "no",
    ],
    { onLine: (l) => { recent.push(l); opts.onLine?.(l); } },
  );
  const url = `redis://:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}`;
  await waitUntilReady("redis", child, async () => {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    // A refused connection while Redis starts rejects connect() below; without a listener ioredis
    // also prints it as an "Unhandled error event".
    r.on("error", () => {});
    try {
      await r.connect();
      return (await r.ping()) === "PONG";
    } finally {
      r.disconnect();
    }
  }, 30_000, recent.text);
  return { name: "redis", url, child, stop: () => stopProcess(child) };
}
