import { Annotation, Transaction, type Extension } from "@codemirror/state";
import { EditorView } from "@codemirror/view";

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
