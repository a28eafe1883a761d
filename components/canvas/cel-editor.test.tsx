// @vitest-environment jsdom
import { acceptCompletion, currentCompletions, startCompletion, completionStatus } from "@codemirror/autocomplete";
import { diagnosticCount, forceLinting, forEachDiagnostic } from "@codemirror/lint";
import { EditorView } from "@codemirror/view";
import { act, cleanup, render, waitFor } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Field } from "@/lib/pipeline/schema";
import { CelEditor, loadExpr } from "./cel-editor";

const fields: Field[] = [
  { name: "amount", type: "float" },
  { name: "user", type: { struct: [{ name: "country", type: "string" }] } },
  { name: "ts", type: "timestamp" },
];

afterEach(cleanup);
// jsdom does no layout: CodeMirror measures text through Range rects, which jsdom lacks, so give it empty ones.
Range.prototype.getClientRects ??= () => Object.assign([], { item: () => null }) as unknown as DOMRectList;
Range.prototype.getBoundingClientRect ??= () => new DOMRect();
// The checker loads lazily in the browser; loading it once up front keeps each test's timing about the editor.
beforeAll(async () => {
  await loadExpr();
});

function viewOf(container: HTMLElement): EditorView {
  const dom = container.querySelector(".cm-editor");
  const view = dom ? EditorView.findFromDOM(dom as HTMLElement) : null;
  if (!view) throw new Error("no CodeMirror view rendered");
  return view;
}

function messages(view: EditorView): string[] {
  const out: string[] = [];
  forEachDiagnostic(view.state, (d) => out.push(d.message));
  return out;
}

describe("CelEditor", () => {
  it("labels the editable area for assistive technology", () => {
    const { getByLabelText } = render(<CelEditor label="Predicate" value="amount > 1.0" onChange={() => {}} fields={fields} expected="bool" />);
    expect(getByLabelText("Predicate").getAttribute("contenteditable")).toBe("true");
    expect(getByLabelText("Predicate").textContent).toBe("amount > 1.0");
  });

  it("flags an unknown field with a did-you-mean, and clears it once fixed", async () => {
    const onChange = vi.fn();
    const { container } = render(<CelEditor label="Predicate" value="amout > 10.0" onChange={onChange} fields={fields} expected="bool" />);
    const view = viewOf(container);
    forceLinting(view);
    await waitFor(() => expect(diagnosticCount(view.state)).toBe(1));
    await waitFor(() => expect(container.querySelector(".cm-lintRange-error")?.textContent).toBe("amout"));
    view.dispatch({ changes: { from: 0, to: 5, insert: "amount" } });
    expect(onChange).toHaveBeenLastCalledWith("amount > 10.0");
    forceLinting(view);
    await waitFor(() => expect(diagnosticCount(view.state)).toBe(0));
  });

  it("takes a new value from outside (a canvas undo) without reporting it back as an edit", () => {
    const onChange = vi.fn();
    const { container, rerender } = render(<CelEditor label="Predicate" value="amount > 1.0" onChange={onChange} fields={fields} />);
    rerender(<CelEditor label="Predicate" value="amount > 2.0" onChange={onChange} fields={fields} />);
    expect(viewOf(container).state.doc.toString()).toBe("amount > 2.0");
    expect(onChange).not.toHaveBeenCalled();
  });

  it("checks only syntax while the input schema is not known (nothing connected yet)", async () => {
    const { container, rerender } = render(<CelEditor label="Predicate" value="amout > 10.0" onChange={() => {}} fields={null} expected="bool" />);
    const view = viewOf(container);
    forceLinting(view);
    await new Promise((r) => setTimeout(r, 300));
    expect(diagnosticCount(view.state)).toBe(0);
    act(() => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: "amout >" } }));
    forceLinting(view);
    await waitFor(() => expect(diagnosticCount(view.state)).toBe(1));
    // Once the schema arrives, field names are checked too.
    act(() => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: "amout > 10.0" } }));
    rerender(<CelEditor label="Predicate" value="amout > 10.0" onChange={() => {}} fields={fields} expected="bool" />);
    await waitFor(() => expect(messages(view)).toEqual(['unknown field "amout" — did you mean "amount"?']));
  });

  it("reports a predicate that does not produce bool", async () => {
    const { container } = render(<CelEditor label="Predicate" value="amount + 1.0" onChange={() => {}} fields={fields} expected="bool" />);
    const view = viewOf(container);
    forceLinting(view);
    await waitFor(() => expect(diagnosticCount(view.state)).toBe(1));
  });

  it("completes an input field name with its type, and struct members after a dot", async () => {
    const onChange = vi.fn();
    const { container } = render(<CelEditor label="Predicate" value="amo" onChange={onChange} fields={fields} />);
    const view = viewOf(container);
    view.focus();
    view.dispatch({ selection: { anchor: 3 } });
    startCompletion(view);
    await waitFor(() => expect(completionStatus(view.state)).toBe("active"));
    const first = currentCompletions(view.state)[0];
    expect(first.label).toBe("amount");
    expect(first.detail).toBe("float");
    // CodeMirror ignores Enter for a moment after the list opens (so a fast typist's Enter is not swallowed).
    await new Promise((r) => setTimeout(r, 100));
    expect(acceptCompletion(view)).toBe(true);
    expect(view.state.doc.toString()).toBe("amount");
    expect(onChange).toHaveBeenLastCalledWith("amount");

    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: "user." }, selection: { anchor: 5 } });
    startCompletion(view);
    await waitFor(() => expect(currentCompletions(view.state).map((c) => c.label)).toEqual(["country"]));
  });

  it("offers library functions with their signatures", async () => {
    const { container } = render(<CelEditor label="Key" value="lowe" onChange={() => {}} fields={fields} />);
    const view = viewOf(container);
    view.focus();
    // Typing (not only an explicit Ctrl-Space) opens the list.
    view.dispatch({ changes: { from: 4, insert: "r" }, selection: { anchor: 5 }, userEvent: "input.type" });
    await waitFor(() => expect(currentCompletions(view.state).some((c) => c.label === "lowerAscii")).toBe(true), { timeout: 4000 });
    const fn = currentCompletions(view.state).find((c) => c.type === "function")!;
    expect(String(fn.info)).toMatch(/\(.*\) → /);
  });
});
