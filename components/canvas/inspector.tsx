"use client";

import { useContext } from "react";
import type { NodeType } from "@/lib/pipeline/nodes";
import type { Field, Row } from "@/lib/pipeline/schema";
import { DiagnosticsContext, ReadOnlyContext, type Config, type NodeDiagnostic } from "./forms/common";
import { FilterForm } from "./forms/filter";
import { ProjectionForm } from "./forms/projection";
import { SplitForm } from "./forms/split";
import { StreamPicker, type StreamOption } from "./forms/stream-picker";
import { UdfForm, type UdfSample } from "./forms/udf";
import { UnionForm } from "./forms/union";
import { WindowForm } from "./forms/window";
import { palette } from "./palette";

export type { StreamOption } from "./forms/stream-picker";

/** The graph as the inspector needs it: node configs and edges (the pipeline document's shape). */
export interface InspectorGraph {
  nodes: { id: string; type: NodeType; config: Record<string, unknown> }[];
  edges: { source: string; sourcePort?: string; target: string }[];
}

export interface InspectorProps {
  nodeId: string;
  data: { type: NodeType; config: Config };
  /** Team slug: the stream picker creates sink streams and the UDF test run runs in it. */
  team?: string;
  streams: StreamOption[];
  /** The current graph (called on render). */
  graph?: () => InspectorGraph;
  /** Output schema of every node, from the last validation. */
  schemas?: Record<string, { name: string; type: unknown }[]>;
  /** Validation diagnostics (any node's; the inspector keeps this node's). */
  diagnostics?: (NodeDiagnostic & { nodeId?: string })[];
  /** Older editors pass only the input field names (typed as json then). */
  inputFields?: string[];
  /** Preview rows by `nodeId:port`. */
  previewRows?: Record<string, Row[]>;
  onChange: (config: Config) => void;
  onDelete: () => void;
  /** Team viewers see the settings but cannot change them (the API refuses their saves too). */
  readOnly?: boolean;
}

// When the graph has an error that stops schema propagation (a required field
// left empty), the validator returns no schemas; pickers keep the last input
// schema they saw instead of going blank while the user types.
const lastInput = new Map<string, Field[]>();

/**
 * The input schema of a node: its upstream nodes' output schemas, merged by
 * field name (as Union aligns them); undefined while not known (nothing
 * connected, or an upstream node has no schema in the last validation).
 */
export function inputSchemaOf(nodeId: string, graph: InspectorGraph, schemas: NonNullable<InspectorProps["schemas"]>): Field[] | undefined {
  const ups = graph.edges.filter((e) => e.target === nodeId).map((e) => e.source);
  if (!ups.length || ups.some((u) => !schemas[u])) return undefined;
  const byName = new Map<string, Field>();
  for (const u of ups) for (const f of schemas[u] as Field[]) if (!byName.has(f.name)) byName.set(f.name, f);
  return [...byName.values()];
}

/** Sample records for a UDF test run: the upstream node's preview rows, else the nearest upstream Source's stream. */
export function udfSampleOf(nodeId: string, graph: InspectorGraph, previewRows: Record<string, Row[]>): UdfSample {
  const inbound = graph.edges.filter((e) => e.target === nodeId);
  const rows = inbound.flatMap((e) => previewRows[`${e.source}:${e.sourcePort ?? "out"}`] ?? []);
  const seen = new Set<string>();
  const queue = inbound.map((e) => e.source);
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const node = graph.nodes.find((n) => n.id === id);
    if (node?.type === "source" && typeof node.config.stream === "string" && node.config.stream) return { rows, stream: node.config.stream };
    queue.push(...graph.edges.filter((e) => e.target === id).map((e) => e.source));
  }
  return { rows };
}

const tone = (severity: string) => (severity === "error" ? "bg-red-50 text-red-700" : severity === "warning" ? "bg-amber-50 text-amber-800" : "bg-sky-50 text-sky-800");

/**
 * The selected node's form, generated per node type from its config schema
 * (lib/pipeline/nodes). Field pickers and expression editors know the node's
 * input schema as the validator propagates it; each validator diagnostic is
 * shown under the control its path points at.
 */
export function Inspector({ nodeId, data, team = "", streams, graph, schemas, diagnostics = [], inputFields, previewRows, onChange, onDelete, readOnly = false }: InspectorProps) {
  const c = data.config;
  const set = (patch: Config) => onChange({ ...c, ...patch });
  const g = graph?.() ?? { nodes: [], edges: [] };
  const computed = schemas ? inputSchemaOf(nodeId, g, schemas) : inputFields?.map((name): Field => ({ name, type: "json" }));
  if (computed !== undefined) lastInput.set(nodeId, computed);
  const known = computed ?? lastInput.get(nodeId);
  const input = known ?? [];
  const mine = diagnostics.filter((d) => d.nodeId === nodeId);
  const nodeLevel = mine.filter((d) => !d.path.startsWith("config"));
  const bag = { all: mine.filter((d) => d.path.startsWith("config")), claimed: new Set<string>() };
  const props = { config: c, set, input, inputKnown: known !== undefined };
  const label = palette[data.type].label;

  return (
    <ReadOnlyContext.Provider value={readOnly}>
    <DiagnosticsContext.Provider value={bag}>
      <form className="space-y-4 p-4 text-sm" aria-label={`${label} node settings`} onSubmit={(e) => e.preventDefault()}>
        <div className="flex items-center justify-between">
          <h2 className="font-semibold">
            {label} <span className="font-mono text-xs font-normal text-slate-500">{nodeId}</span>
          </h2>
          {readOnly ? null : <button type="button" onClick={onDelete} className="rounded px-1 text-xs text-red-700 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-red-600">Delete node</button>}
        </div>
        {readOnly ? <p className="rounded bg-slate-100 px-2 py-1 text-xs text-slate-600">You have view access to this team: settings are shown read-only. Ask a team owner for the editor role to change them.</p> : null}
        {/* A disabled fieldset disables every native control inside it; the code editors read ReadOnlyContext. */}
        <fieldset disabled={readOnly} className="min-w-0 space-y-4">
        {nodeLevel.length ? (
          <ul className="space-y-1" aria-label="Node problems">
            {nodeLevel.map((p, i) => <li key={i} className={`rounded px-2 py-1 text-xs ${tone(p.severity)}`}>{p.message}</li>)}
          </ul>
        ) : null}
        {data.type !== "source" && !g.edges.some((e) => e.target === nodeId) ? <p className="text-xs text-slate-500">Connect an input to this node to pick its fields.</p> : null}
        {data.type === "source" || data.type === "sink" ? <StreamPicker kind={data.type} team={team} value={(c.stream as string) ?? ""} onChange={(stream) => set({ stream })} streams={streams} input={input} /> : null}
        {data.type === "filter" ? <FilterForm {...props} /> : null}
        {data.type === "projection" ? <ProjectionForm {...props} /> : null}
        {data.type === "split" ? <SplitForm {...props} /> : null}
        {data.type === "union" ? <UnionForm {...props} /> : null}
        {data.type === "window" ? <WindowForm {...props} /> : null}
        {data.type === "udf" ? <UdfForm {...props} team={team} sample={udfSampleOf(nodeId, g, previewRows ?? {})} /> : null}
        </fieldset>
        <UnclaimedDiagnostics />
      </form>
    </DiagnosticsContext.Provider>
    </ReadOnlyContext.Provider>
  );
}

/** Config diagnostics no control claimed (rendered last, after every field has claimed its own). */
function UnclaimedDiagnostics() {
  const bag = useContext(DiagnosticsContext);
  const rest = bag.all.filter((d) => !bag.claimed.has(d.path));
  if (!rest.length) return null;
  return (
    <ul className="space-y-1" aria-label="Other problems">
      {rest.map((d, i) => <li key={i} className={`rounded px-2 py-1 text-xs ${tone(d.severity)}`}>{d.path.replace(/^config\.?/, "") ? <span className="font-mono">{d.path.replace(/^config\.?/, "")}: </span> : null}{d.message}</li>)}
    </ul>
  );
}
