"use client";

import { useReactFlow } from "@xyflow/react";
import { useCallback, useEffect, useRef } from "react";
import { layoutGraph } from "./layout";
import { useGraphApi, useGraphHistory, type GraphClip } from "./store";

/** True when a key press belongs to a text field (input, textarea, select, CodeMirror), not to the canvas. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target instanceof HTMLElement && target.isContentEditable) return true;
  return !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true'], .cm-editor");
}

/**
 * Editing shortcuts of the canvas: undo (Ctrl/Cmd+Z), redo (Ctrl/Cmd+Shift+Z,
 * Ctrl+Y), copy/paste (Ctrl/Cmd+C/V), select all (Ctrl/Cmd+A) and delete
 * (Delete/Backspace). They stay out of the way while the user types in a form
 * or an expression editor, where the same keys mean text editing.
 */
export function useGraphShortcuts(canEdit: boolean, active = true) {
  const api = useGraphApi();
  const clip = useRef<{ clip: GraphClip; pasted: number } | null>(null);
  useEffect(() => {
    // Off while the canvas shows something else (a version diff): keys must not edit a graph the user cannot see.
    if (!active) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.altKey || isTyping(e.target)) return;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      const s = api.getState();
      const history = api.temporal.getState();
      let handled = true;
      if (mod && key === "a") s.selectAll();
      else if (mod && key === "c") {
        const copied = s.copySelection();
        if (copied) clip.current = { clip: copied, pasted: 0 };
        else handled = false;
      } else if (!canEdit) handled = false;
      else if (mod && key === "z" && !e.shiftKey) history.undo();
      else if ((mod && key === "z" && e.shiftKey) || (e.ctrlKey && key === "y")) history.redo();
      else if (mod && key === "v" && clip.current) {
        // Each paste of the same copy lands a step further, so copies do not stack invisibly.
        clip.current.pasted += 1;
        s.paste(clip.current.clip, { x: 40 * clip.current.pasted, y: 40 * clip.current.pasted });
      } else if (!mod && (e.key === "Delete" || e.key === "Backspace")) s.deleteSelection();
      else handled = false;
      if (handled) e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [api, canEdit, active]);
}

const button =
  "rounded-md border border-slate-300 px-2.5 py-1.5 text-sm disabled:opacity-40 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-brand-500 focus-visible:ring-offset-1";

/** Undo, redo and auto-layout buttons for the editor's toolbar. */
export function GraphToolbar({ canEdit }: { canEdit: boolean }) {
  const api = useGraphApi();
  const canUndo = useGraphHistory((t) => t.pastStates.length > 0);
  const canRedo = useGraphHistory((t) => t.futureStates.length > 0);
  const { fitView } = useReactFlow();
  const autoLayout = useCallback(() => {
    const { nodes, edges, setPositions } = api.getState();
    setPositions(layoutGraph(nodes, edges));
    // Fit once React Flow has the new positions.
    requestAnimationFrame(() => void fitView({ duration: 300, maxZoom: 1 }));
  }, [api, fitView]);
  if (!canEdit) return null;
  const mac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);
  const mod = mac ? "⌘" : "Ctrl+";
  return (
    <div role="group" aria-label="Graph editing" className="flex items-center gap-1">
      <button type="button" aria-label="Undo" title={`Undo (${mod}Z)`} disabled={!canUndo} onClick={() => api.temporal.getState().undo()} className={button}>
        ↶
      </button>
      <button type="button" aria-label="Redo" title={`Redo (${mod}Shift+Z)`} disabled={!canRedo} onClick={() => api.temporal.getState().redo()} className={button}>
        ↷
      </button>
      <button type="button" aria-label="Auto-layout" title="Arrange the nodes left to right and fit them in view" onClick={autoLayout} className={button}>
        Auto-layout
      </button>
    </div>
  );
}
