"use client";

import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import type { NodeType } from "@/lib/pipeline/nodes";
import { palette } from "./palette";
import { useGraph, type NodeDecoration } from "./store";

/**
 * What a node is in the pipeline. Display-only extras (problems, preview
 * counts, diff, live status) are store decorations, so changing them neither
 * touches the graph nor enters undo history.
 */
export interface SluiceNodeData extends Record<string, unknown> {
  type: NodeType;
  config: Record<string, unknown>;
  /** Never stored in the graph: the editor adds the node's problems only to the copy it hands the inspector. */
  problems?: { severity: string; message: string }[];
}
export type SluiceNode = Node<SluiceNodeData, "sluice">;

/** Output ports of a node: Split has one per named output plus `else`. */
export function outputsOf(data: SluiceNodeData): string[] {
  if (data.type === "sink") return [];
  if (data.type === "split") {
    const outs = ((data.config.outputs as { name: string }[] | undefined) ?? []).map((o) => o.name);
    return data.config.unmatched === "drop" ? outs : [...outs, "else"];
  }
  if (data.type === "window") return ["out", "late"];
  return ["out"];
}

function summary(data: SluiceNodeData): string {
  const c = data.config;
  switch (data.type) {
    case "source":
    case "sink":
      return (c.stream as string) || "choose a stream";
    case "filter":
      return (c.predicate as string) || "";
    case "projection":
      return `${((c.fields as unknown[]) ?? []).length} field(s)${c.keepOthers ? " + others" : ""}`;
    case "window": {
      const w = c.window as { kind: string; size?: string; gap?: string };
      return `${w?.kind ?? ""} ${w?.size ?? w?.gap ?? ""}`;
    }
    default:
      return "";
  }
}

const NO_DECORATION: NodeDecoration = {};

const DIFF_STYLE: Record<NonNullable<NodeDecoration["diff"]>, string> = {
  added: "outline outline-2 outline-offset-2 outline-emerald-500",
  removed: "opacity-60 outline outline-2 outline-offset-2 outline-dashed outline-red-500",
  changed: "outline outline-2 outline-offset-2 outline-amber-500",
};

/*
 * Memoised: React Flow re-renders a node only when its own props change, and
 * this component subscribes to its own decoration only, so a drag or a preview
 * count on one node does not re-render the other 199.
 */
export const PipelineNode = memo(function PipelineNode({ id, data, selected }: NodeProps<SluiceNode>) {
  const ui = palette[data.type];
  const outputs = outputsOf(data);
  const deco = useGraph((s) => s.decorations[id]) ?? NO_DECORATION;
  const errors = deco.problems?.filter((p) => p.severity === "error") ?? [];
  const count = deco.count;
  return (
    <div
      data-diff={deco.diff}
      // React Flow removes the focus outline of custom nodes; keyboard users still need to see which node has focus.
      className={`min-w-44 max-w-60 rounded-lg border bg-white text-left shadow-sm [:focus-visible>&]:ring-2 [:focus-visible>&]:ring-brand-500 ${selected ? "border-brand-500 ring-2 ring-brand-100" : errors.length ? "border-red-400" : "border-slate-300"} ${deco.diff ? DIFF_STYLE[deco.diff] : ""}`}
    >
      {/* While a connection is drawn, the input under the pointer turns green or red by the connection rules. */}
      {data.type !== "source" ? <Handle type="target" position={Position.Left} id="in" className="!h-3 !w-3 !bg-slate-500 [&.connectingto.valid]:!bg-emerald-500 [&.connectingto:not(.valid)]:!bg-red-500" /> : null}
      <div className="flex items-center gap-2 border-b border-slate-100 px-3 py-1.5">
        <span className={`h-2.5 w-2.5 rounded-full ${ui.accent}`} aria-hidden="true" />
        <span className="text-xs font-semibold uppercase tracking-wide text-slate-600">{ui.label}</span>
        {errors.length ? (
          <span title={errors.map((e) => e.message).join("\n")} className="ml-auto rounded-full bg-red-600 px-1.5 text-[10px] font-bold text-white" data-testid="node-error-badge">
            {errors.length}
          </span>
        ) : null}
      </div>
      <div className="truncate px-3 py-1.5 font-mono text-xs text-slate-800">{summary(data) || "\u00a0"}</div>
      {count ? <div className="border-t border-slate-100 px-3 py-1 text-[11px] text-slate-500">in {count.in} · out {count.out}{count.errored ? ` · ${count.errored} errors` : ""}</div> : null}
      {deco.live ? (
        <div className="flex items-center gap-1.5 border-t border-slate-100 px-3 py-1 text-[11px] text-slate-500" data-testid="node-live" data-state={deco.live.state}>
          <span aria-hidden="true" className={`h-2 w-2 rounded-full ${deco.live.state === "running" ? "bg-emerald-500" : deco.live.state === "failed" ? "bg-red-500" : "bg-amber-400"}`} />
          <span className={deco.live.state === "failed" ? "font-medium text-red-700" : undefined}>{deco.live.state}</span> · {deco.live.recordsPerSec.toFixed(deco.live.recordsPerSec < 10 ? 1 : 0)} rec/s
          {deco.live.stage && deco.live.stage !== "main" ? <span data-testid="node-stage" title={`Runs in stage "${deco.live.stage}" (after its repartition stream), ${deco.live.tasks ?? 0} task(s)`}> · stage {deco.live.stage} ×{deco.live.tasks}</span> : null}
        </div>
      ) : null}
      {outputs.map((port, i) => (
        <Handle key={port} type="source" position={Position.Right} id={port} style={{ top: `${((i + 1) / (outputs.length + 1)) * 100}%` }} className="!h-3 !w-3 !bg-brand-600" title={port} />
      ))}
      {outputs.length > 1 ? (
        <div className="absolute -right-14 top-0 flex h-full flex-col justify-around text-[10px] text-slate-500">
          {outputs.map((p) => <span key={p}>{p}</span>)}
        </div>
      ) : null}
    </div>
  );
});

/** Module-scope registry (React Flow wants a stable object). */
export const nodeTypes = { sluice: PipelineNode };
