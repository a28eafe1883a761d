"use client";

import "@xyflow/react/dist/style.css";
import { Background, Controls, MiniMap, ReactFlow, ReactFlowProvider, useReactFlow, type Connection, type Edge, type FinalConnectionState } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { PipelineTabs } from "@/components/pipelines/pipeline-tabs";
import { apiFetch } from "@/components/ui/api";
import type { NodeType } from "@/lib/pipeline/nodes";
import type { PreviewEvent } from "@/lib/runtime/preview/events";
import { connectionRefusal } from "./connection-rules";
import { GraphToolbar, useGraphShortcuts } from "./graph-commands";
import { Inspector, type StreamOption } from "./inspector";
import { NODE_ORDER, palette } from "./palette";
import { nodeTypes } from "./pipeline-node";
import { readSse } from "./sse";
import { createGraphStore, GraphStoreProvider, selectedNodeIds, toDoc, useGraph, useGraphApi, type NodeProblem, type PipelineDoc } from "./store";
import { DeployPanel } from "./deploy-panel";
import { DiffCanvas } from "./diff-canvas";
import { SqlView } from "./sql-view";
import { UnsavedChangesGuard } from "./unsaved-changes-guard";
import { useDeploymentStatus } from "./use-deployment-status";
import { SaveVersionDialog, VersionsPanel, type DiffSelection } from "./versions-panel";

interface Diagnostic {
  severity: "error" | "warning" | "info";
  message: string;
  nodeId?: string;
  path: string;
}
type Field = { name: string; type: unknown };

export interface EditorProps {
  team: string;
  pipeline: string;
  initial: PipelineDoc | null;
  streams: StreamOption[];
  latestVersion: number | null;
  canEdit: boolean;
}

const sameProblems = (a: NodeProblem[] | undefined, b: NodeProblem[] | undefined) =>
  (a?.length ?? 0) === (b?.length ?? 0) && (a ?? []).every((p, i) => p.severity === b![i].severity && p.message === b![i].message);

const FIT_VIEW_OPTIONS = { maxZoom: 1 };
const DEFAULT_VIEWPORT = { x: 0, y: 0, zoom: 1 };
// Shift-click adds to the selection (as do Cmd/Ctrl-click); Shift-drag on the pane draws a selection box.
const MULTI_SELECT_KEYS = ["Shift", "Meta", "Control"];

/**
 * The React Flow surface. It alone subscribes to the whole node and edge
 * arrays, so a drag frame re-renders this and the moved node, not the
 * toolbar, inspector or preview.
 */
function Canvas({ canEdit, onRefuse }: { canEdit: boolean; onRefuse: (reason: string) => void }) {
  const api = useGraphApi();
  const nodes = useGraph((s) => s.nodes);
  const edges = useGraph((s) => s.edges);
  const onNodesChange = useGraph((s) => s.onNodesChange);
  const onEdgesChange = useGraph((s) => s.onEdgesChange);
  const addNode = useGraph((s) => s.addNode);
  const { screenToFlowPosition } = useReactFlow();
  // Rules read the store when asked, rather than re-creating callbacks on every graph change.
  const refusal = useCallback((c: { source: string; sourceHandle?: string | null; target: string }) => {
    const s = api.getState();
    return connectionRefusal(c, new Map(s.nodes.map((n) => [n.id, { id: n.id, type: n.data.type }])), s.edges);
  }, [api]);
  const isValidConnection = useCallback((c: Edge | Connection) => refusal(c) === null, [refusal]);
  const onConnect = useCallback((c: Connection) => {
    const reason = refusal(c);
    if (reason) onRefuse(reason);
    else api.getState().onConnect(c);
  }, [api, refusal, onRefuse]);
  // React Flow drops an invalid connection silently; say why it was refused.
  const onConnectEnd = useCallback((_: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    if (state.isValid !== false || !state.fromNode || !state.toNode || !state.fromHandle) return;
    const out = state.fromHandle.type === "source";
    const reason = refusal(out
      ? { source: state.fromNode.id, sourceHandle: state.fromHandle.id, target: state.toNode.id }
      : { source: state.toNode.id, sourceHandle: state.toHandle?.id, target: state.fromNode.id });
    if (reason) onRefuse(reason);
  }, [refusal, onRefuse]);
  return (
    <div className="relative min-w-0 flex-1" onDragOver={(e) => e.preventDefault()} onDrop={(e) => {
      const t = e.dataTransfer.getData("application/sluice-node") as NodeType;
      if (t && canEdit) addNode(t, screenToFlowPosition({ x: e.clientX, y: e.clientY }));
    }}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        nodesDraggable={canEdit}
        nodesConnectable={canEdit}
        // Delete/Backspace are the editor's own shortcut: one undo step for nodes and their edges.
        deleteKeyCode={null}
        multiSelectionKeyCode={MULTI_SELECT_KEYS}
        selectionKeyCode="Shift"
        minZoom={0.1}
        fitView
        fitViewOptions={FIT_VIEW_OPTIONS}
        defaultViewport={DEFAULT_VIEWPORT}
      >
        <Background />
        {/* The canvas is small at 1280×800: a compact minimap, and only once the graph is too big to read at a glance (it would cover nodes otherwise). */}
        {nodes.length > 12 ? <MiniMap pannable zoomable style={{ width: 140, height: 90 }} ariaLabel="Minimap" /> : null}
        <Controls />
      </ReactFlow>
      {!nodes.length ? <div className="pointer-events-none absolute inset-0 flex items-center justify-center text-slate-500">Drag a Source here to start</div> : null}
    </div>
  );
}

function EditorInner({ team, pipeline, streams, latestVersion, canEdit }: EditorProps) {
  const api = useGraphApi();
  const selectedKey = useGraph(selectedNodeIds);
  // The inspector and the preview table follow a single selected node.
  const selected = selectedKey && !selectedKey.includes("\n") ? selectedKey : null;
  const selectedData = useGraph((s) => (selected ? s.nodes.find((n) => n.id === selected)?.data : undefined));
  const selectedProblems = useGraph((s) => (selected ? s.decorations[selected]?.problems : undefined));
  const edges = useGraph((s) => s.edges);
  const nodeCount = useGraph((s) => s.nodes.length);
  const logicVersion = useGraph((s) => s.logicVersion);
  const graphVersion = useGraph((s) => s.graphVersion);
  const [savedGraphVersion, setSavedGraphVersion] = useState(graphVersion);
  const [diagnostics, setDiagnostics] = useState<Diagnostic[]>([]);
  const [schemas, setSchemas] = useState<Record<string, Field[]>>({});
  const [toast, setToast] = useState<{ text: string; tone: "ok" | "error" } | null>(null);
  const refuseConnection = useCallback((reason: string) => setToast({ text: `Connection refused: ${reason}`, tone: "error" }), []);
  const [version, setVersion] = useState(latestVersion);
  const [preview, setPreview] = useState<{ running: boolean; rows: Record<string, Record<string, unknown>[]>; errors: { nodeId: string; reason: string }[]; status?: { sampled: number; produced: number; errored: number } }>({ running: false, rows: {}, errors: [] });
  const previewAbort = useRef<AbortController | null>(null);
  const { fitView } = useReactFlow();
  // Undo back to the saved graph is not an unsaved change.
  const dirty = graphVersion !== savedGraphVersion;
  const currentDoc = useCallback(() => toDoc(api.getState().nodes, api.getState().edges), [api]);
  const [diffing, setDiffing] = useState<DiffSelection | null>(null);
  useGraphShortcuts(canEdit, !diffing);
  const [diffFocus, setDiffFocus] = useState<{ id: string; at: number } | null>(null);
  const [saveDialog, setSaveDialog] = useState<{ saving: boolean; error: string | null } | null>(null);
  const [sidePanel, setSidePanel] = useState<"problems" | "versions">("problems");
  // The SQL tab replaces the canvas in the middle; the inspector stays, so a node's config can be edited while its SQL is in view.
  const [centerTab, setCenterTab] = useState<"canvas" | "sql">("canvas");
  const deployment = useDeploymentStatus(team, pipeline);

  // While deployed, each node shows its live state and rate (matched by node id to the deployed version).
  useEffect(() => {
    const s = api.getState();
    const st = deployment.status;
    const live = st?.deployed && st.desiredState === "running" ? st.nodes : undefined;
    if (!live) {
      if (Object.values(s.decorations).some((d) => d.live)) s.clearNodeDecorations("live");
      return;
    }
    s.setNodeDecorations(Object.fromEntries(s.nodes.map((n) => [n.id, { live: live[n.id] }])));
  }, [deployment.status, api]);

  // Validate when what the pipeline does changes (debounced); moving nodes does not re-validate.
  useEffect(() => {
    let stale = false;
    const t = setTimeout(async () => {
      try {
        const r = await apiFetch<{ diagnostics: Diagnostic[]; schemas: Record<string, Field[]> }>(`/api/v1/teams/${team}/pipelines/validate`, { body: { pipeline: currentDoc() } });
        if (stale) return;
        setDiagnostics(r.diagnostics);
        setSchemas(r.schemas);
      } catch (e) {
        if (!stale) setDiagnostics([{ severity: "error", message: e instanceof Error ? e.message : String(e), path: "" }]);
      }
    }, 300);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [logicVersion, team, currentDoc]);

  // Diagnostics land on their nodes; only nodes whose problems changed re-render.
  useEffect(() => {
    const s = api.getState();
    const byNode = new Map<string, NodeProblem[]>();
    for (const d of diagnostics) if (d.nodeId) byNode.set(d.nodeId, [...(byNode.get(d.nodeId) ?? []), { severity: d.severity, message: d.message }]);
    const patch: Record<string, { problems: NodeProblem[] | undefined }> = {};
    for (const id of new Set([...s.nodes.map((n) => n.id), ...Object.keys(s.decorations)])) {
      if (!sameProblems(byNode.get(id), s.decorations[id]?.problems)) patch[id] = { problems: byNode.get(id) };
    }
    if (Object.keys(patch).length) s.setNodeDecorations(patch);
  }, [diagnostics, api]);

  const errors = diagnostics.filter((d) => d.severity === "error");

  const inputFields = useMemo(() => {
    if (!selected) return [];
    const ups = edges.filter((e) => e.target === selected).map((e) => e.source);
    return [...new Set(ups.flatMap((u) => (schemas[u] ?? []).map((f) => f.name)))];
  }, [selected, edges, schemas]);

  async function save(message: string) {
    const saving = api.getState().graphVersion;
    setSaveDialog({ saving: true, error: null });
    try {
      const r = await apiFetch<{ version: number }>(`/api/v1/teams/${team}/pipelines/${pipeline}/versions`, { body: { pipeline: currentDoc(), message } });
      setVersion(r.version);
      setSavedGraphVersion(saving);
      setSaveDialog(null);
      setToast({ text: `Saved version ${r.version}`, tone: "ok" });
    } catch (e) {
      setSaveDialog({ saving: false, error: e instanceof Error ? e.message : String(e) });
    }
  }

  function restore(doc: PipelineDoc, from: number) {
    // Undoable, and dirty until saved: a restore is an edit like any other.
    api.getState().replaceGraph(doc);
    setDiffing(null);
    setToast({ text: `Restored v${from} on the canvas as unsaved changes: save a version to keep it.`, tone: "ok" });
  }

  async function runPreview() {
    previewAbort.current?.abort();
    const ac = new AbortController();
    previewAbort.current = ac;
    setPreview({ running: true, rows: {}, errors: [] });
    api.getState().clearNodeDecorations("count");
    try {
      const res = await fetch(`/api/v1/teams/${team}/pipelines/preview`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pipeline: currentDoc(), limit: 100 }), signal: ac.signal });
      if (!res.ok) throw new Error(((await res.json()) as { error: { message: string } }).error.message);
      for await (const { event, data } of readSse(res)) {
        // The stream itself ended with an error (access revoked while it ran, …): say why.
        if (event === "error") {
          setToast({ text: (JSON.parse(data) as { message: string }).message, tone: "error" });
          break;
        }
        if (event !== "preview") continue;
        const e = JSON.parse(data) as PreviewEvent;
        if (e.type === "rows") setPreview((p) => ({ ...p, rows: { ...p.rows, [`${e.nodeId}:${e.port}`]: [...(p.rows[`${e.nodeId}:${e.port}`] ?? []), ...e.rows] } }));
        else if (e.type === "errors") setPreview((p) => ({ ...p, errors: [...p.errors, ...e.errors] }));
        else if (e.type === "status") setPreview((p) => ({ ...p, status: e }));
        else if (e.type === "counts") api.getState().setNodeDecorations(Object.fromEntries(Object.entries(e.perNode).map(([id, count]) => [id, { count }])));
        else if (e.type === "error") setToast({ text: e.message, tone: "error" });
        if (e.type === "done" || e.type === "error") break;
      }
    } catch (e) {
      if (!ac.signal.aborted) setToast({ text: e instanceof Error ? e.message : String(e), tone: "error" });
    } finally {
      setPreview((p) => ({ ...p, running: false }));
    }
  }

  const shownRows = selected ? Object.entries(preview.rows).filter(([k]) => k.startsWith(`${selected}:`)).flatMap(([, rows]) => rows) : [];
  const columns = [...new Set(shownRows.slice(0, 50).flatMap((r) => Object.keys(r)))];

  return (
    <div className="flex h-screen flex-col">
      <div className="flex items-center gap-3 border-b border-slate-200 bg-white px-4 py-2">
        <h1 className="font-semibold">{pipeline}</h1>
        <PipelineTabs team={team} pipeline={pipeline} active="editor" />
        <GraphToolbar canEdit={canEdit && !diffing} />
        <span className="text-xs text-slate-500">{version ? `v${version}` : "not saved yet"}{dirty ? " · unsaved changes" : ""}</span>
        <div className="ml-auto flex items-center gap-2">
          {preview.running ? (
            <button onClick={() => previewAbort.current?.abort()} className="rounded-md border border-slate-300 px-3 py-1.5 text-sm">Stop preview</button>
          ) : (
            <button onClick={runPreview} disabled={!nodeCount} className="rounded-md border border-brand-600 px-3 py-1.5 text-sm font-medium text-brand-700 disabled:opacity-40">Preview</button>
          )}
          <button onClick={() => { setSidePanel("versions"); api.getState().selectNodes([]); }} aria-pressed={sidePanel === "versions"} className="rounded-md border border-slate-300 px-3 py-1.5 text-sm">Versions</button>
          <a href={`/t/${team}/lineage?pipeline=${encodeURIComponent(pipeline)}`} title="Which streams this pipeline reads and writes, and who reads them" className="rounded-md border border-slate-300 px-3 py-1.5 text-sm">Lineage</a>
          {canEdit ? <button onClick={() => setSaveDialog({ saving: false, error: null })} disabled={errors.length > 0 || !!diffing} title={errors.length ? "Fix the errors first" : undefined} className="rounded-md border border-slate-300 px-3 py-1.5 text-sm disabled:opacity-40">Save version</button> : null}
          {canEdit ? (
            <DeployPanel
              team={team}
              pipeline={pipeline}
              savedVersion={version}
              blockedReason={errors.length ? "Fix the errors first" : dirty ? "Save a version first: the canvas has unsaved changes" : null}
              status={deployment.status}
              refresh={deployment.refresh}
              onMessage={setToast}
            />
          ) : null}
        </div>
      </div>
      {toast ? <div role="status" onClick={() => setToast(null)} className={`px-4 py-2 text-sm ${toast.tone === "ok" ? "bg-emerald-50 text-emerald-800" : "bg-red-50 text-red-700"}`}>{toast.text}</div> : null}
      <div className="flex min-h-0 flex-1">
        <aside aria-label="Palette" aria-description="Press a node type (or Tab to it and press Enter) to add it to the canvas" className="w-44 shrink-0 space-y-1 overflow-y-auto border-r border-slate-200 bg-white p-2">
          {NODE_ORDER.map((t) => (
            <button
              key={t}
              draggable
              onDragStart={(e) => e.dataTransfer.setData("application/sluice-node", t)}
              onClick={() => api.getState().addNode(t)}
              disabled={!canEdit}
              className="w-full rounded-md border border-slate-200 px-2 py-1.5 text-left hover:border-brand-500 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-brand-500 disabled:opacity-50"
              title={`Drag onto the canvas, or press to add: ${palette[t].description}`}
            >
              <span className="flex items-center gap-2 text-sm font-medium"><span aria-hidden="true" className={`h-2 w-2 rounded-full ${palette[t].accent}`} />{palette[t].label}</span>
              <span className="block text-[11px] text-slate-500">{palette[t].description}</span>
            </button>
          ))}
        </aside>
        {diffing ? (
          <div className="relative min-w-0 flex-1"><DiffCanvas selection={diffing} focus={diffFocus} /></div>
        ) : (
          <div className="flex min-w-0 flex-1 flex-col">
            <div role="tablist" aria-label="Pipeline view" className="flex gap-1 border-b border-slate-200 bg-slate-50 px-2 pt-1">
              {(["canvas", "sql"] as const).map((t) => (
                <button key={t} role="tab" aria-selected={centerTab === t} onClick={() => setCenterTab(t)} className={`rounded-t-md px-3 py-1 text-sm ${centerTab === t ? "border border-b-white border-slate-200 bg-white font-medium" : "text-slate-600 hover:text-slate-900"}`}>
                  {t === "canvas" ? "Canvas" : "SQL"}
                </button>
              ))}
            </div>
            {centerTab === "canvas" ? (
              <Canvas canEdit={canEdit} onRefuse={refuseConnection} />
            ) : (
              <div role="tabpanel" aria-label="SQL" className="min-h-0 flex-1 bg-white">
                <SqlView team={team} logicVersion={logicVersion} graph={currentDoc} onSelectNode={(id) => { setCenterTab("canvas"); api.getState().selectNodes([id]); }} />
              </div>
            )}
          </div>
        )}
        <aside className="w-80 shrink-0 overflow-y-auto border-l border-slate-200 bg-white">
          {diffing || (sidePanel === "versions" && !(selected && selectedData)) ? (
            <>
              {!diffing ? <button onClick={() => setSidePanel("problems")} className="mx-4 mt-3 text-xs font-medium text-brand-700 hover:underline">← Problems ({diagnostics.filter((d) => d.severity !== "info").length})</button> : null}
              <VersionsPanel team={team} pipeline={pipeline} latestVersion={version} deployedVersion={deployment.status?.deployed ? deployment.status.version : null} dirty={dirty} canEdit={canEdit} diffing={diffing} onShowDiff={setDiffing} onExitDiff={() => setDiffing(null)} onRestore={restore} onFocusNode={(id) => setDiffFocus({ id, at: Date.now() })} />
            </>
          ) : selected && selectedData ? (
            <Inspector
              nodeId={selected}
              data={selectedProblems ? { ...selectedData, problems: selectedProblems } : selectedData}
              team={team}
              streams={streams}
              graph={currentDoc}
              schemas={schemas}
              diagnostics={diagnostics}
              previewRows={preview.rows}
              onChange={(config) => api.getState().updateConfig(selected, config)}
              onDelete={() => { api.getState().selectNodes([selected]); api.getState().deleteSelection(); }}
              readOnly={!canEdit}
            />
          ) : (
            <div className="p-4 text-sm text-slate-600">
              <h2 className="mb-2 font-semibold">Problems ({diagnostics.filter((d) => d.severity !== "info").length})</h2>
              <ul className="space-y-1" aria-label="Problems">
                {diagnostics.map((d, i) => (
                  <li key={i}>
                    <button onClick={() => { if (d.nodeId) { api.getState().selectNodes([d.nodeId]); void fitView({ nodes: [{ id: d.nodeId }], duration: 300, maxZoom: 1.2 }); } }} className={`w-full rounded px-2 py-1 text-left text-xs ${d.severity === "error" ? "bg-red-50 text-red-700" : d.severity === "warning" ? "bg-amber-50 text-amber-800" : "bg-sky-50 text-sky-800"}`}>
                      {d.nodeId ? <span className="font-mono">{d.nodeId}: </span> : null}{d.message}
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </aside>
      </div>
      <section aria-label="Preview" className="h-56 shrink-0 overflow-auto border-t border-slate-200 bg-white">
        <div className="sticky top-0 flex items-center gap-4 border-b border-slate-100 bg-white px-4 py-1.5 text-xs text-slate-600">
          <span className="font-semibold text-slate-800">Preview{selected ? ` · ${selected}` : ""}</span>
          {preview.status ? <span data-testid="preview-status">sampled {preview.status.sampled} · produced {preview.status.produced} · errors {preview.status.errored}</span> : <span>Select a node and press Preview to see its output on the newest records.</span>}
          {preview.running ? <span className="animate-pulse">running…</span> : null}
        </div>
        {shownRows.length ? (
          <table className="min-w-full font-mono text-[12px]" data-testid="preview-table">
            <thead className="text-left text-slate-500"><tr>{columns.map((c) => <th key={c} className="px-3 py-1">{c}</th>)}</tr></thead>
            <tbody className="divide-y divide-slate-100">
              {shownRows.slice(0, 200).map((r, i) => <tr key={i}>{columns.map((c) => <td key={c} className="px-3 py-1">{typeof r[c] === "object" ? JSON.stringify(r[c]) : String(r[c] ?? "")}</td>)}</tr>)}
            </tbody>
          </table>
        ) : null}
        {preview.errors.filter((e) => !selected || e.nodeId === selected).slice(0, 20).map((e, i) => <p key={i} className="px-4 py-1 text-xs text-red-700">{e.nodeId}: {e.reason}</p>)}
      </section>
      <UnsavedChangesGuard dirty={dirty} />
      {saveDialog ? <SaveVersionDialog onSave={(m) => void save(m)} onClose={() => setSaveDialog(null)} saving={saveDialog.saving} error={saveDialog.error} /> : null}
    </div>
  );
}

function EditorRoot(props: EditorProps) {
  const [store] = useState(() => createGraphStore(props.initial));
  return (
    <ReactFlowProvider>
      <GraphStoreProvider store={store}>
        <EditorInner {...props} />
      </GraphStoreProvider>
    </ReactFlowProvider>
  );
}

export function PipelineEditor(props: EditorProps) {
  // A different pipeline is a fresh graph and a fresh undo history.
  return <EditorRoot key={`${props.team}/${props.pipeline}`} {...props} />;
}
