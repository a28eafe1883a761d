import { createClient, type ClickHouseClient } from "@clickhouse/client";

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
