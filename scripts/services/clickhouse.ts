import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { lineBuffer, spawnService, stopProcess, waitUntilReady, type ServiceProcess } from "./process";

export interface ClickHouseOptions {
  dataDir: string;
  httpPort: number;
  tcpPort: number;
  password: string;
  onLine?: (line: string) => void;
}

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * Starts clickhouse-server with a minimal config of our own rather than the
 * Debian service files (see shared notes: 18.16 is what apt has; modern
 * servers accept the same config keys).
 */
export async function startClickHouse(opts: ClickHouseOptions): Promise<ServiceProcess> {
  const dir = resolve(opts.dataDir);
  for (const d of ["data", "tmp", "user_files", "format_schemas"]) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(
    join(dir, "config.xml"),
    `<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <http_port>${opts.httpPort}</http_port>
  <tcp_port>${opts.tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
</yandex>
`,
  );
  writeFileSync(
    join(dir, "users.xml"),
    `<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password>${xmlEscape(opts.password)}</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`,
    { mode: 0o600 },
  );
  const recent = lineBuffer();
  const child = spawnService("clickhouse-server", [`--config-file=${join(dir, "config.xml")}`], {
    cwd: dir,
    onLine: (l) => { recent.push(l); opts.onLine?.(l); },
  });
  const base = `http://127.0.0.1:${opts.httpPort}`;
  await waitUntilReady("clickhouse", child, async () => (await fetch(`${base}/ping`)).ok, 60_000, recent.text);
  return {
    name: "clickhouse",
    url: `http://default:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.httpPort}`,
    child,
    stop: () => stopProcess(child, 30_000),
  };
}
