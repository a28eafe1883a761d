import type { ClickHouseClient } from "@clickhouse/client";
import { moduleLogger } from "@/lib/log/logger";

const log = moduleLogger("metrics");

export interface BatchWriterOptions {
  table: string;
  /** Flush when this many rows are buffered… */
  maxRows?: number;
  /** …or this long after the first buffered row. */
  flushIntervalMs?: number;
  /** Rows kept while ClickHouse is unreachable; the oldest are dropped (and counted) beyond it. */
  maxBufferedRows?: number;
}

/**
 * The one path by which metrics reach ClickHouse: rows are buffered and
 * inserted in batches (ClickHouse wants few large inserts, not many small
 * ones). A failed insert keeps its rows for the next attempt, bounded so a
 * long outage cannot exhaust the worker's memory.
 */
export class BatchWriter<Row extends object> {
  private buffer: Row[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  dropped = 0;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly opts: BatchWriterOptions,
  ) {}

  write(rows: Row | Row[]): void {
    const list = Array.isArray(rows) ? rows : [rows];
    if (!list.length) return;
    this.buffer.push(...list);
    const max = this.opts.maxBufferedRows ?? 100_000;
    if (this.buffer.length > max) {
      const excess = this.buffer.length - max;
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
    if (this.buffer.length >= (this.opts.maxRows ?? 5_000)) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.opts.flushIntervalMs ?? 5_000);
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Inserts everything buffered so far; resolves when done (or failed and re-buffered). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    if (!this.buffer.length) return;
    const rows = this.buffer;
    this.buffer = [];
    this.flushing = this.client
      .insert({ table: this.opts.table, values: rows, format: "JSONEachRow" })
      .then(() => undefined)
      .catch((err) => {
        log.warn({ err, table: this.opts.table, rows: rows.length }, "metrics insert failed; will retry");
        this.buffer = rows.concat(this.buffer);
        this.timer ??= setTimeout(() => void this.flush(), this.opts.flushIntervalMs ?? 5_000);
      })
      .finally(() => {
        this.flushing = undefined;
      });
    await this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
  }
}
