import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { lineBuffer, spawnService, stopProcess, waitUntilReady, type ServiceProcess } from "./process";

export interface BrokerOptions {
  root: string;
  dataDir: string;
  port: number;
  /** More broker flags (e.g. a TLS/SASL listener for tests): `npm start` passes none. */
  args?: string[];
  onLine?: (line: string) => void;
}

/** The embedded Kafka-protocol broker lives in broker/; we talk to it only over the protocol. */
export function brokerAvailable(root: string): boolean {
  return existsSync(join(root, "broker/src/main.ts"));
}

export async function startBroker(opts: BrokerOptions): Promise<ServiceProcess> {
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const recent = lineBuffer();
  let listening = false;
  // `node --import tsx`, not the tsx CLI: the CLI runs the program in a child
  // process, so a SIGKILL to it would orphan the broker.
  const child = spawnService(process.execPath, ["--import", "tsx", join(opts.root, "broker/src/main.ts"), "--port", String(opts.port), "--data-dir", opts.dataDir, ...(opts.args ?? [])], {
    cwd: opts.root,
    onLine: (l) => {
      if (l.includes("listening")) listening = true;
      recent.push(l);
      opts.onLine?.(l);
    },
  });
  await waitUntilReady("broker", child, async () => listening, 60_000, recent.text);
  return { name: "kafka", url: `127.0.0.1:${opts.port}`, child, stop: () => stopProcess(child, 30_000) };
}
