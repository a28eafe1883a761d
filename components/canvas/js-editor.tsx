"use client";

import { closeBrackets, closeBracketsKeymap, completionKeymap, autocompletion } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { javascript } from "@codemirror/lang-javascript";
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers } from "@codemirror/view";
import { useContext, useRef } from "react";
import { reportEdits, useCodeMirror } from "./codemirror-sync";
import { ReadOnlyContext } from "./forms/common";

const theme = EditorView.theme({
  "&": { fontSize: "12px", border: "1px solid rgb(203 213 225)", borderRadius: "0.375rem", backgroundColor: "white" },
  "&.cm-focused": { outline: "2px solid rgb(37 99 235)", outlineOffset: "1px" },
  ".cm-content": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace", minHeight: "6em" },
  ".cm-gutters": { backgroundColor: "rgb(248 250 252)", borderRight: "1px solid rgb(226 232 240)" },
});

/** A CodeMirror 6 JavaScript editor for an inline UDF's source. Tab is left to focus navigation; indentation follows Enter. */
export function JsEditor({ id, label, value, onChange, describedBy }: { id?: string; label: string; value: string; onChange: (value: string) => void; describedBy?: string }) {
  const readOnly = useContext(ReadOnlyContext);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  const { host } = useCodeMirror(
    value,
    () => [
      lineNumbers(),
      history(),
      closeBrackets(),
      bracketMatching(),
      indentOnInput(),
      javascript(),
      autocompletion(),
      syntaxHighlighting(defaultHighlightStyle),
      keymap.of([...closeBracketsKeymap, ...completionKeymap, ...historyKeymap, ...defaultKeymap]),
      EditorState.readOnly.of(readOnly),
      EditorView.editable.of(!readOnly),
      EditorView.contentAttributes.of({ "aria-label": label, ...(id ? { id } : {}), ...(describedBy ? { "aria-describedby": describedBy } : {}) }),
      theme,
      // The inspector is narrow: wrap long lines rather than scroll sideways.
      EditorView.lineWrapping,
      reportEdits(() => onChangeRef.current),
    ],
    [label, id, describedBy, readOnly],
  );

  return <div ref={host} className="mt-1" data-testid="js-editor" />;
}
