import type { NodeCounts } from "@/lib/compiler";

/**
 * What a live preview streams to the browser (worker → Redis pub/sub → web →
 * SSE). One definition for the worker, the web route and the canvas.
 */
export type PreviewEvent =
  | { type: "started"; previewId: string; mode: "sample" | "tail"; sources: string[] }
  /** Output rows of one node port (appended to what was sent before). */
  | { type: "rows"; nodeId: string; port: string; rows: Record<string, unknown>[] }
  | { type: "errors"; errors: PreviewRecordError[] }
  /** Cumulative per-node counts so far. */
  | { type: "counts"; perNode: Record<string, NodeCounts> }
  | { type: "status"; sampled: number; produced: number; errored: number; elapsedMs: number }
  | { type: "done"; reason: "complete" | "cancelled" | "timeout" | "limit" }
  | { type: "error"; message: string };

export interface PreviewRecordError {
  nodeId: string;
  reason: string;
  record: unknown;
  source?: { topic: string; partition: number; offset: string };
}

/** What the web says when a preview's job was failed for stalling (processor.ts: never retried). */
export const PREVIEW_STALLED_MESSAGE =
  "The preview stopped: the worker running it stalled past its time limit, so it was abandoned and not retried. Simplify the graph (or its expressions and functions), or preview fewer records.";
