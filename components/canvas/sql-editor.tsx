"use client";

import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { sql, StandardSQL } from "@codemirror/lang-sql";
import { defaultHighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { lintGutter, setDiagnostics, type Diagnostic as CmDiagnostic } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers } from "@codemirror/view";
import { useEffect, useRef } from "react";
import { reportEdits, useCodeMirror } from "./codemirror-sync";

const theme = EditorView.theme({
  "&": { fontSize: "12px", border: "1px solid rgb(203 213 225)", borderRadius: "0.375rem", backgroundColor: "white", height: "100%" },
  "&.cm-focused": { outline: "2px solid rgb(37 99 235)", outlineOffset: "1px" },
  ".cm-scroller": { overflow: "auto" },
  ".cm-content": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace", minHeight: "12em" },
  ".cm-gutters": { backgroundColor: "rgb(248 250 252)", borderRight: "1px solid rgb(226 232 240)" },
});

export interface SqlMark {
  start: number;
  end: number;
  severity: "error" | "warning" | "info";
  message: string;
}

/**
 * A CodeMirror 6 editor for Sluice SQL (@codemirror/lang-sql's standard
 * dialect for highlighting). Read-only in the canvas's SQL tab; editable in
 * "New pipeline from SQL", where diagnostics are drawn at their SQL span.
 */
export function SqlEditor({ label, value, onChange, readOnly = false, marks = [], testId }: { label: string; value: string; onChange?: (value: string) => void; readOnly?: boolean; marks?: SqlMark[]; testId?: string }) {
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const { host, view } = useCodeMirror(
    value,
    () => [
      lineNumbers(),
      history(),
      sql({ dialect: StandardSQL, upperCaseKeywords: true }),
      syntaxHighlighting(defaultHighlightStyle),
      keymap.of([...historyKeymap, ...defaultKeymap]),
      EditorState.readOnly.of(readOnly),
      EditorView.editable.of(!readOnly),
      EditorView.contentAttributes.of({ "aria-label": label }),
      lintGutter(),
      theme,
      reportEdits(() => (text) => onChangeRef.current?.(text)),
    ],
    [label, readOnly],
  );

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const length = v.state.doc.length;
    const diagnostics: CmDiagnostic[] = marks.map((m) => ({ from: Math.min(m.start, length), to: Math.min(Math.max(m.end, m.start), length), severity: m.severity, message: m.message }));
    v.dispatch(setDiagnostics(v.state, diagnostics));
  }, [marks, value, view]);

  return <div ref={host} className="h-full" data-testid={testId} />;
}
