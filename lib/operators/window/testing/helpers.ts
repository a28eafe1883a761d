import { windowNodeConfig, type WindowNodeConfig, type WindowNodeConfigInput } from "@/lib/pipeline/nodes/window";
import type { Row, StreamSchema } from "@/lib/pipeline/schema";
import { buildWindow } from "../index";
import type { WindowOperator, WindowOptions } from "../operator";

/** The input schema window tests use: event time, a key, an int and a string. */
export const EVENTS: StreamSchema = [
  { name: "ts", type: "timestamp" },
  { name: "user", type: "string" },
  { name: "v", type: "int" },
  { name: "tag", type: "string", nullable: true },
];

export function windowConfig(input: WindowNodeConfigInput): WindowNodeConfig {
  return windowNodeConfig.parse(input);
}

/** Builds an operator through the same path the pipeline uses (CEL keys compiled by buildWindow). */
export function makeWindow(input: WindowNodeConfigInput, options?: WindowOptions, schema: StreamSchema = EVENTS): WindowOperator {
  const built = buildWindow(windowConfig(input), schema);
  if (!built.create) throw new Error(`window config has errors: ${JSON.stringify(built.diagnostics)}`);
  return built.create(options);
}

/** A stable text for comparing emitted rows as multisets. */
export function sortedRows(rows: readonly Row[]): string[] {
  return rows.map((r) => JSON.stringify(Object.keys(r).sort().map((k) => [k, r[k]]))).sort();
}
