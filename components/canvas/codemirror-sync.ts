import { Annotation, EditorState, Transaction, type Extension } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { useEffect, useRef, type DependencyList } from "react";

/**
 * Two-way binding of a CodeMirror editor to a `value` prop, shared by the CEL
 * and JavaScript editors. Text set from the prop is marked, so it is not sent
 * back as an edit (echoing it would, e.g., turn an undo in the canvas into a
 * new change), and it is left out of the editor's own undo history.
 */
const fromProp = Annotation.define<boolean>();

/** Calls `onChange` (read through the getter, so it may change) for the user's edits only. */
export function reportEdits(onChange: () => (text: string) => void): Extension {
  return EditorView.updateListener.of((u) => {
    if (u.docChanged && !u.transactions.some((tr) => tr.annotation(fromProp))) onChange()(u.state.doc.toString());
  });
}

/** Replaces the editor's text with a value that changed outside it (undo in the canvas, another node selected). */
export function applyValue(view: EditorView | null, value: string): void {
  if (view && view.state.doc.toString() !== value) {
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: value }, annotations: [fromProp.of(true), Transaction.addToHistory.of(false)] });
  }
}

/**
 * Mounts a CodeMirror view in the returned `host` div and keeps its text equal
 * to `value`. The view is rebuilt only when `deps` change (label, read-only…),
 * not on every keystroke: rebuilding would lose the cursor and undo history,
 * so `extensions` should read changing props through refs.
 */
export function useCodeMirror(value: string, extensions: () => Extension[], deps: DependencyList) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);

  useEffect(() => {
    if (!host.current) return;
    const v = new EditorView({ parent: host.current, state: EditorState.create({ doc: value, extensions: extensions() }) });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The view lives as long as the component; value changes are applied below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  // A value changed from outside (undo in the canvas, another node selected) replaces the text.
  useEffect(() => {
    applyValue(view.current, value);
  }, [value]);

  return { host, view };
}
