import type { ClickHouseClient } from "@clickhouse/client";
import { identifier, raw, sql } from "@/lib/clickhouse/sql";
import { moduleLogger } from "@/lib/log/logger";

const log = moduleLogger("metrics-retention");

/**
 * Metrics retention. ClickHouse 18.16 has no table TTL, so old data goes by
 * dropping whole partitions: per-minute tables are partitioned by day
 * (YYYYMMDD), hourly rollups by month (YYYYMM). A partition is dropped only
 * once all of it is older than the retention, so at most a day (a month for
 * rollups) more than asked for is kept, never less.
 */
export const RAW_TABLES = ["node_metrics", "task_metrics", "partition_lag"] as const;
export const ROLLUP_TABLES = ["node_metrics_hourly", "task_metrics_hourly", "partition_lag_hourly"] as const;

export interface PartitionRef {
  table: string;
  partition: string;
}

/** End (exclusive, epoch ms) of a YYYYMMDD or YYYYMM partition; undefined for any other partition key. */
export function partitionEnd(partition: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})?$/.exec(partition);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, m[3] ? Number(m[3]) : undefined];
  return d === undefined ? Date.UTC(y, mo + 1, 1) : Date.UTC(y, mo, d + 1);
}

/** The partitions wholly older than their table's retention (pure). */
export function expiredPartitions(parts: readonly PartitionRef[], opts: { now: number; rawDays: number; rollupDays: number }): PartitionRef[] {
  const cutoff = (days: number) => opts.now - days * 86_400_000;
  return parts.filter((p) => {
    const days = (RAW_TABLES as readonly string[]).includes(p.table) ? opts.rawDays : (ROLLUP_TABLES as readonly string[]).includes(p.table) ? opts.rollupDays : undefined;
    const end = partitionEnd(p.partition);
    return days !== undefined && end !== undefined && end <= cutoff(days);
  });
}

/** Drops expired partitions of the metrics tables; returns what it dropped. */
export async function dropExpiredPartitions(client: ClickHouseClient, opts: { now?: number; rawDays: number; rollupDays: number }): Promise<PartitionRef[]> {
  const tables = [...RAW_TABLES, ...ROLLUP_TABLES];
  const rs = await client.query({
    query: sql`SELECT DISTINCT table, partition FROM system.parts WHERE database = currentDatabase() AND active AND table IN ${tables}`,
    format: "JSONEachRow",
  });
  const parts = await rs.json<PartitionRef>();
  const expired = expiredPartitions(parts, { now: opts.now ?? Date.now(), rawDays: opts.rawDays, rollupDays: opts.rollupDays });
  for (const p of expired) {
    // The partition id is digits only (checked by partitionEnd), so it is safe as a literal.
    await client.command({ query: sql`ALTER TABLE ${raw(identifier(p.table))} DROP PARTITION ${raw(p.partition)}` });
  }
  if (expired.length) log.info({ dropped: expired.map((p) => `${p.table}/${p.partition}`) }, "dropped expired metrics partitions");
  return expired;
}
