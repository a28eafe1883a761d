"use client";

import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, type Completion, type CompletionContext, type CompletionResult } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { HighlightStyle, StreamLanguage, syntaxHighlighting, type StringStream } from "@codemirror/language";
import { forceLinting, linter, type Diagnostic as LintDiagnostic } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, placeholder as placeholderExt } from "@codemirror/view";
import { tags as t } from "@lezer/highlight";
import { useContext, useEffect, useRef } from "react";
import { reportEdits, useCodeMirror } from "./codemirror-sync";
import { ReadOnlyContext } from "./forms/common";
import type { Field, FieldType } from "@/lib/pipeline/schema";

/** Marks a transaction that applies the value prop (not a user edit). */

/**
 * The expression checker (lib/expr) is pure TypeScript, so the editor checks an
 * expression against the node's input schema as the user types, with the same
 * code the validator and the workers use. It is loaded on first use so pages
 * without an expression field do not carry the CEL parser.
 */
type ExprModule = typeof import("@/lib/expr");
let exprModule: Promise<ExprModule> | null = null;
export function loadExpr(): Promise<ExprModule> {
  exprModule ??= import("@/lib/expr");
  return exprModule;
}

export type CelResultType = "bool";

export interface CelEditorProps {
  /** The accessible name of the editor (the text a label shows). */
  label: string;
  value: string;
  onChange: (value: string) => void;
  /**
   * The node's input schema, as the validator propagates it; null while it is
   * not known (no input connected, or the graph does not validate yet), when
   * only syntax is checked so no field is flagged unknown by mistake.
   */
  fields: Field[] | null;
  /** Required result type: a Filter predicate or Split condition must produce bool. */
  expected?: CelResultType;
  placeholder?: string;
  /** id for the editable element, so a <label htmlFor> focuses it. */
  id?: string;
  /** id of an element describing the editor (hint or the field's diagnostics). */
  describedBy?: string;
  readOnly?: boolean;
}

const KEYWORDS = new Set(["true", "false", "null", "in"]);

interface CelTokenState {
  /** The previous token was `.`: the next identifier is a field member or a member-style call. */
  afterDot: boolean;
}

/** A small tokenizer for CEL: strings (incl. raw/triple-quoted), numbers, operators, keywords, calls and field identifiers. */
export const celLanguage = StreamLanguage.define<CelTokenState>({
  name: "cel",
  startState: () => ({ afterDot: false }),
  token(stream: StringStream, state: CelTokenState): string | null {
    if (stream.eatSpace()) return null;
    const afterDot = state.afterDot;
    state.afterDot = false;
    if (stream.match("//")) {
      stream.skipToEnd();
      return "comment";
    }
    // String literals, optionally raw (r"...") or bytes (b"..."), single, double or triple quoted.
    const str = stream.match(/^[rRbB]{0,2}("""|'''|"|')/, false) as RegExpMatchArray | null;
    if (str) {
      stream.match(/^[rRbB]{0,2}/);
      const quote = str[1];
      stream.match(quote);
      const raw = /[rR]/.test(str[0].slice(0, str[0].length - quote.length));
      while (!stream.eol()) {
        if (!raw && stream.eat("\\")) {
          stream.next();
          continue;
        }
        if (stream.match(quote)) return "string";
        stream.next();
      }
      return "string";
    }
    if (stream.match(/^(0x[0-9a-fA-F]+u?|\d+\.\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+u?)/)) return "number";
    const ident = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray | null;
    if (ident) {
      const word = ident[0];
      if (!afterDot && KEYWORDS.has(word)) return word === "in" ? "operatorKeyword" : "atom";
      if (stream.match(/^\s*\(/, false)) return "function";
      return afterDot ? "propertyName" : "variableName";
    }
    if (stream.eat(".")) {
      state.afterDot = true;
      return "punctuation";
    }
    if (stream.match(/^(==|!=|<=|>=|&&|\|\||[-+*/%<>!?:])/)) return "operator";
    stream.next();
    return "punctuation";
  },
  tokenTable: { function: t.function(t.variableName) },
});

const celHighlight = HighlightStyle.define([
  { tag: t.string, color: "#0f766e" },
  { tag: t.number, color: "#9333ea" },
  { tag: t.atom, color: "#b45309", fontWeight: "600" },
  { tag: t.operatorKeyword, color: "#b45309", fontWeight: "600" },
  { tag: t.operator, color: "#475569" },
  { tag: t.function(t.variableName), color: "#1d4ed8" },
  { tag: t.variableName, color: "#0f172a" },
  { tag: t.propertyName, color: "#334155" },
  { tag: t.comment, color: "#64748b", fontStyle: "italic" },
]);

const theme = EditorView.theme({
  "&": { fontSize: "13px", border: "1px solid rgb(203 213 225)", borderRadius: "0.375rem", backgroundColor: "white" },
  // Visible focus: the same ring every other control in the inspector has.
  "&.cm-focused": { outline: "2px solid rgb(37 99 235)", outlineOffset: "1px" },
  ".cm-content": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace", padding: "4px 0", minHeight: "1.5em" },
  ".cm-line": { padding: "0 6px" },
  ".cm-tooltip-autocomplete ul li": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace" },
});

function formatType(type: FieldType): string {
  if (typeof type === "string") return type;
  if ("list" in type) return `list<${formatType(type.list)}>`;
  return "struct";
}

/** The fields visible at a dotted path: the input schema at the root, a struct's members below it. */
function fieldsAt(fields: Field[], path: string[]): Field[] | null {
  let current = fields;
  for (const seg of path) {
    const f = current.find((x) => x.name === seg);
    if (!f || typeof f.type !== "object" || !("struct" in f.type)) return null;
    current = f.type.struct;
  }
  return current;
}

/**
 * Completion: input fields (with their types) where an identifier may start,
 * struct members after `field.`, and the function library with signatures.
 */
export function celCompletionSource(getFields: () => Field[] | null) {
  return async (ctx: CompletionContext): Promise<CompletionResult | null> => {
    const word = ctx.matchBefore(/[A-Za-z_][A-Za-z0-9_]*/);
    const from = word ? word.from : ctx.pos;
    const before = ctx.state.sliceDoc(Math.max(0, from - 200), from);
    if (!word && !ctx.explicit && !before.endsWith(".")) return null;
    // Inside a string literal: count unescaped quotes before the cursor on this line.
    const line = ctx.state.doc.lineAt(ctx.pos);
    const head = ctx.state.sliceDoc(line.from, from).replace(/\\./g, "");
    if ((head.split('"').length - 1) % 2 === 1 || (head.split("'").length - 1) % 2 === 1) return null;
    const member = /([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\.$/.exec(before);
    const { expressionFunctions } = await loadExpr();
    const functions = expressionFunctions();
    const fnOptions: Completion[] = functions.map((f) => ({
      label: f.name,
      type: "function",
      detail: f.signatures[0]?.replace(/^[^(]+/, "") ?? "",
      info: f.signatures.join("\n"),
      apply: `${f.name}(`,
      boost: -1,
    }));
    if (member) {
      const path = member[1].split(".");
      const nested = fieldsAt(getFields() ?? [], path);
      // After a struct field: its members. After any other value: member-style calls (s.contains(...)).
      const options: Completion[] = nested ? nested.map((f) => ({ label: f.name, type: "property", detail: formatType(f.type), info: f.doc })) : fnOptions;
      return { from, options, validFor: /^[A-Za-z0-9_]*$/ };
    }
    const options: Completion[] = [
      ...(getFields() ?? []).map((f) => ({ label: f.name, type: "variable", detail: formatType(f.type) + (f.nullable ? " (nullable)" : ""), info: f.doc, boost: 1 })),
      ...fnOptions,
      ...["true", "false", "null"].map((k) => ({ label: k, type: "keyword" })),
    ];
    return { from, options, validFor: /^[A-Za-z0-9_]*$/ };
  };
}

/** Lint: the expression checked against the input schema, as the validator will check it. */
export function celLintSource(getFields: () => Field[] | null, getExpected: () => CelResultType | undefined) {
  return async (view: EditorView): Promise<LintDiagnostic[]> => {
    const text = view.state.doc.toString();
    // An empty field is reported once, by the node's validator ("expression is required").
    if (text.trim() === "") return [];
    const { compileExpression, parseExpression } = await loadExpr();
    const fields = getFields();
    let diagnostics;
    if (fields === null) {
      const parsed = parseExpression(text);
      diagnostics = parsed.ok ? [] : parsed.diagnostics;
    } else {
      const r = compileExpression(text, fields, getExpected());
      diagnostics = r.ok ? r.expr.warnings : r.diagnostics;
    }
    const length = view.state.doc.length;
    return diagnostics.map((d) => {
      const from = Math.min(Math.max(0, d.start), length);
      return { from, to: Math.min(Math.max(from, d.end), length), severity: d.severity, message: d.message, source: "CEL" };
    });
  };
}

/** A CodeMirror 6 editor for one CEL expression (Filter predicates, Split conditions, computed fields, Window keys). */
export function CelEditor({ id, label, value, onChange, fields, expected, placeholder, describedBy, readOnly: readOnlyProp }: CelEditorProps) {
  const inReadOnlyForm = useContext(ReadOnlyContext);
  const readOnly = readOnlyProp === true || inReadOnlyForm;
  // The editor is created once; props it reads later go through refs.
  const latest = useRef({ onChange, fields, expected });
  latest.current = { onChange, fields, expected };

  const { host, view } = useCodeMirror(
    value,
    () => [
      history(),
      closeBrackets(),
      celLanguage,
      syntaxHighlighting(celHighlight),
      autocompletion({ override: [celCompletionSource(() => latest.current.fields)], activateOnTyping: true }),
      linter(celLintSource(() => latest.current.fields, () => latest.current.expected), { delay: 150 }),
      // No Tab binding: Tab must move focus to the next control (keyboard users leave the editor with it).
      keymap.of([...closeBracketsKeymap, ...completionKeymap, ...historyKeymap, ...defaultKeymap]),
      placeholder ? placeholderExt(placeholder) : [],
      EditorState.readOnly.of(readOnly === true),
      EditorView.editable.of(readOnly !== true),
      EditorView.contentAttributes.of({ "aria-label": label, ...(id ? { id } : {}), ...(describedBy ? { "aria-describedby": describedBy } : {}), "data-cel-editor": "" }),
      theme,
      EditorView.lineWrapping,
      reportEdits(() => latest.current.onChange),
    ],
    [label, readOnly, id, describedBy],
  );

  // A new input schema (an upstream edit) re-checks the expression at once.
  const fieldsKey = JSON.stringify(fields);
  useEffect(() => {
    if (view.current) forceLinting(view.current);
  }, [fieldsKey, expected]);

  return <div ref={host} className="mt-1" data-testid="cel-editor" />;
}
