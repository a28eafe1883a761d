import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClickHouseClient } from "@clickhouse/client";
import { sql } from "./sql";

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations", import.meta.url));

/**
 * Versioned ClickHouse DDL: files `NNNN_name.sql` in lib/clickhouse/migrations,
 * applied in order once each and recorded in `sluice_migrations`. Statements are
 * separated by `;` at the end of a line. Keep DDL to what both ClickHouse 18.16
 * and current servers accept (no TTL, no DateTime64, no Map — see shared notes).
 */
export async function migrateClickHouse(client: ClickHouseClient, dir = MIGRATIONS_DIR): Promise<string[]> {
  await client.command({
    query: "CREATE TABLE IF NOT EXISTS sluice_migrations (version UInt32, name String, applied_at DateTime) ENGINE = MergeTree() ORDER BY version",
  });
  const rs = await client.query({ query: "SELECT version FROM sluice_migrations", format: "JSONEachRow" });
  const applied = new Set((await rs.json<{ version: number }>()).map((r) => Number(r.version)));
  const files = readdirSync(dir).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const done: string[] = [];
  for (const file of files) {
    const version = Number(file.slice(0, 4));
    if (applied.has(version)) continue;
    const text = readFileSync(join(dir, file), "utf8");
    const statements = text
      .split(/;\s*$/m)
      .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
      .filter(Boolean);
    for (const query of statements) await client.command({ query });
    await client.command({ query: sql`INSERT INTO sluice_migrations (version, name, applied_at) VALUES (${version}, ${file}, now())` });
    done.push(file);
  }
  return done;
}
