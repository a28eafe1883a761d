import type { Batch, Built, RecordError } from "@/lib/operators/types";
import type { ValidationContext } from "./analyze";
import type { NodeOfType } from "./nodes";
import type { StreamSchema } from "./schema";

/**
 * Window and UDF nodes, built from core-2's operators behind two small
 * adapters so the plan only sees batches in and batches out.
 */
export interface WindowRuntime {
  process(batch: Batch, now: number): { out: Batch; late: Batch; errors: RecordError[] };
  advanceTime(now: number): { out: Batch; late: Batch };
  flush(): { out: Batch; late: Batch };
  snapshot(): unknown;
  restore(snapshot: unknown): void;
  drainChanges(): unknown[];
  restoreFromChanges(changes: unknown[]): void;
}

export interface UdfRuntime {
  runBatch(batch: Batch): Promise<{ out: Batch; errors: RecordError[]; filtered: number }>;
  dispose(): void;
}

export type StatefulOp = { kind: "window"; nodeId: string; create: () => WindowRuntime } | { kind: "udf"; nodeId: string; create: () => UdfRuntime };

export function buildStatefulNode(node: NodeOfType<"window"> | NodeOfType<"udf">, _input: StreamSchema, _ctx: ValidationContext): Built<StatefulOp> {
  return {
    diagnostics: [{ severity: "error", code: "unsupported-node", message: `${node.type} nodes are not available in this build yet`, path: "" }],
  };
}
