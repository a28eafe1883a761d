import { createClient, type ClickHouseClient } from "@clickhouse/client";
import { AppError } from "@/lib/errors";

const globalForCh = globalThis as unknown as { sluiceClickHouse?: ClickHouseClient };

export function clickhouseUrl(): string | undefined {
  return process.env.CLICKHOUSE_URL || undefined;
}

/** Shared ClickHouse client; credentials come from the URL (http://user:password@host:port/db). */
export function clickhouse(): ClickHouseClient {
  const url = clickhouseUrl();
  if (!url) throw new Error("CLICKHOUSE_URL is not set: start Sluice with `npm start` or point it at your ClickHouse server.");
  globalForCh.sluiceClickHouse ??= createClient({ url, request_timeout: 10_000, application: "sluice" });
  return globalForCh.sluiceClickHouse;
}

export async function closeClickHouse(): Promise<void> {
  await globalForCh.sluiceClickHouse?.close();
  globalForCh.sluiceClickHouse = undefined;
}

/** The metrics store for a request that cannot do without it: a clear 503 when ClickHouse is not configured. */
export function requireClickHouse(): ClickHouseClient {
  if (!clickhouseUrl()) throw new AppError("unavailable", "Metrics are not available: this Sluice has no ClickHouse (set CLICKHOUSE_URL, or start it with `npm start`).");
  return clickhouse();
}
