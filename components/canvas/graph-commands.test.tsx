// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { useGraphShortcuts } from "./graph-commands";
import { createGraphStore, GraphStoreProvider, type GraphStore } from "./store";
import { sourceFilterSink as doc } from "./test-pipeline";

function Shortcuts({ canEdit, active }: { canEdit: boolean; active: boolean }) {
  useGraphShortcuts(canEdit, active);
  return (
    <div>
      <input aria-label="Predicate" />
      <div className="cm-editor">
        <div className="cm-content" contentEditable suppressContentEditableWarning data-testid="cm">x</div>
      </div>
    </div>
  );
}

function setup(canEdit = true, active = true): { store: GraphStore; input: HTMLElement; cm: HTMLElement } {
  const store = createGraphStore(doc);
  const r = render(
    <GraphStoreProvider store={store}>
      <Shortcuts canEdit={canEdit} active={active} />
    </GraphStoreProvider>,
  );
  return { store, input: r.getByLabelText("Predicate"), cm: r.getByTestId("cm") };
}

const count = (s: GraphStore) => s.getState().nodes.length;
const selected = (s: GraphStore) => s.getState().nodes.filter((n) => n.selected).map((n) => n.id);

afterEach(cleanup);

describe("canvas shortcuts", () => {
  it("select all, copy, paste, delete, undo and redo from the keyboard", () => {
    const { store } = setup();
    store.getState().selectNodes(["filter-1", "sink-1"]);
    fireEvent.keyDown(document.body, { key: "c", ctrlKey: true });
    fireEvent.keyDown(document.body, { key: "v", ctrlKey: true });
    expect(count(store)).toBe(5);
    expect(selected(store)).toEqual(["filter-2", "sink-2"]);
    // A second paste of the same copy lands further along, with its own ids.
    fireEvent.keyDown(document.body, { key: "v", metaKey: true });
    expect(selected(store)).toEqual(["filter-3", "sink-3"]);
    expect(store.getState().nodes.find((n) => n.id === "filter-3")!.position).toEqual({ x: 280, y: 80 });

    fireEvent.keyDown(document.body, { key: "Delete" });
    expect(count(store)).toBe(5);
    fireEvent.keyDown(document.body, { key: "z", ctrlKey: true });
    expect(count(store)).toBe(7);
    fireEvent.keyDown(document.body, { key: "Z", ctrlKey: true, shiftKey: true });
    expect(count(store)).toBe(5);
    fireEvent.keyDown(document.body, { key: "z", metaKey: true });
    fireEvent.keyDown(document.body, { key: "y", ctrlKey: true });
    expect(count(store)).toBe(5);

    fireEvent.keyDown(document.body, { key: "a", ctrlKey: true });
    expect(selected(store)).toHaveLength(5);
    fireEvent.keyDown(document.body, { key: "Backspace" });
    expect(count(store)).toBe(0);
    expect(store.getState().edges).toHaveLength(0);
  });

  it("leaves keys alone while the user types in an input or a CodeMirror editor", () => {
    const { store, input, cm } = setup();
    store.getState().selectNodes(["filter-1"]);
    for (const target of [input, cm]) {
      fireEvent.keyDown(target, { key: "a", ctrlKey: true });
      fireEvent.keyDown(target, { key: "Backspace" });
      fireEvent.keyDown(target, { key: "Delete" });
      fireEvent.keyDown(target, { key: "z", ctrlKey: true });
    }
    expect(selected(store)).toEqual(["filter-1"]);
    expect(count(store)).toBe(3);
  });

  it("does nothing while the canvas shows something else (a version diff)", () => {
    const { store } = setup(true, false);
    store.getState().selectNodes(["filter-1"]);
    fireEvent.keyDown(document.body, { key: "Delete" });
    fireEvent.keyDown(document.body, { key: "a", ctrlKey: true });
    expect(count(store)).toBe(3);
    expect(selected(store)).toEqual(["filter-1"]);
  });

  it("lets a viewer select and copy but not change the graph", () => {
    const { store } = setup(false);
    fireEvent.keyDown(document.body, { key: "a", ctrlKey: true });
    expect(selected(store)).toHaveLength(3);
    fireEvent.keyDown(document.body, { key: "c", ctrlKey: true });
    fireEvent.keyDown(document.body, { key: "v", ctrlKey: true });
    fireEvent.keyDown(document.body, { key: "Delete" });
    expect(count(store)).toBe(3);
  });
});
