// @vitest-environment jsdom
import { EditorView } from "@codemirror/view";
import { act, cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { nodeConfigSchemas, type NodeType } from "@/lib/pipeline/nodes";
import type { Field } from "@/lib/pipeline/schema";
import { loadExpr } from "./cel-editor";
import type { NodeDiagnostic } from "./forms/common";
import { Inspector, type StreamOption } from "./inspector";
import { palette } from "./palette";

const input: Field[] = [
  { name: "user_id", type: "string" },
  { name: "amount", type: "float" },
  { name: "ts", type: "timestamp" },
  { name: "geo", type: { struct: [{ name: "country", type: "string" }, { name: "city", type: "string" }] } },
];
const streams: StreamOption[] = [
  { name: "ods.clicks", access: "owner", fields: ["user_id", "amount"], layer: "ODS", owner: "growth", schema: input },
  { name: "dwd.orders", access: "read", fields: ["order_id"], layer: "DWD", owner: "shop", schema: [{ name: "order_id", type: "string" }] },
  { name: "dws.totals", access: "owner", fields: ["total"], layer: "DWS", owner: "growth", schema: [{ name: "total", type: "float" }] },
];

afterEach(cleanup);
// jsdom does no layout: CodeMirror measures text through Range rects, which jsdom lacks, so give it empty ones.
Range.prototype.getClientRects ??= () => Object.assign([], { item: () => null }) as unknown as DOMRectList;
Range.prototype.getBoundingClientRect ??= () => new DOMRect();
beforeAll(async () => {
  await loadExpr();
});

/** Renders the inspector for one node fed by a Source, keeping its config in state like the editor does. */
function setup(type: NodeType, opts: { config?: Record<string, unknown>; diagnostics?: (NodeDiagnostic & { nodeId?: string })[]; readOnly?: boolean } = {}) {
  const state = { config: opts.config ?? structuredClone(palette[type].defaultConfig) };
  function Harness() {
    const [config, setConfig] = useState(state.config);
    return (
      <Inspector
        nodeId="n1"
        data={{ type, config }}
        team="acme"
        streams={streams}
        graph={() => ({ nodes: [{ id: "src", type: "source", config: { stream: "ods.clicks" } }, { id: "n1", type, config }], edges: type === "source" ? [] : [{ source: "src", target: "n1" }] })}
        schemas={{ src: input }}
        diagnostics={opts.diagnostics ?? []}
        onChange={(c) => {
          state.config = c;
          setConfig(c);
        }}
        onDelete={() => {}}
        readOnly={opts.readOnly}
      />
    );
  }
  render(<Harness />);
  return { user: userEvent.setup(), config: () => state.config, parse: () => nodeConfigSchemas[type].safeParse(state.config) };
}

/** Replaces the text of a CodeMirror editor found by its accessible name, as typing would. */
async function setCode(label: string, text: string) {
  const content = await screen.findByLabelText(label);
  const view = EditorView.findFromDOM(content.closest(".cm-editor") as HTMLElement)!;
  act(() => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, userEvent: "input.type" }));
}

describe("Inspector forms produce configs the node schemas accept", () => {
  it("Filter: the predicate editor writes config.predicate", async () => {
    const f = setup("filter");
    await setCode("Predicate", 'amount > 10.0 && geo.country == "DE"');
    expect(f.config()).toEqual({ predicate: 'amount > 10.0 && geo.country == "DE"' });
    expect(f.parse().success).toBe(true);
  });

  it("Projection: copy + rename from a picker, a computed field with a cast, drop, flatten", async () => {
    const f = setup("projection");
    await f.user.click(screen.getByRole("button", { name: "+ copy field" }));
    await f.user.selectOptions(screen.getByLabelText("Field 1 copied from"), "user_id");
    expect(f.config().fields).toEqual([{ name: "user_id", from: "user_id" }]);
    fireEvent.change(screen.getByLabelText("Field 1 output name"), { target: { value: "uid" } });
    await f.user.click(screen.getByRole("button", { name: "+ computed field" }));
    await setCode("Field 2 expression", "amount * 100.0");
    fireEvent.change(screen.getByLabelText("Field 2 output name"), { target: { value: "cents" } });
    await f.user.selectOptions(screen.getByLabelText("Field 2 cast"), "int");
    await f.user.click(screen.getByLabelText("amount"));
    await f.user.click(screen.getByRole("button", { name: "+ flatten a struct" }));
    await f.user.selectOptions(screen.getByLabelText("Flatten 1 field"), "geo");
    const parsed = f.parse();
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data).toEqual({
      fields: [{ name: "uid", from: "user_id" }, { name: "cents", expr: "amount * 100.0", cast: "int" }],
      keepOthers: true,
      drop: ["amount"],
      flatten: [{ field: "geo", separator: "_" }],
    });
    // Switching a row from copy to compute keeps exactly one of from/expr, as the schema requires.
    await f.user.click(within(screen.getByTestId("projection-field-0")).getByLabelText("compute (CEL)"));
    expect(f.config().fields).toContainEqual({ name: "uid", expr: "user_id" });
    expect(f.parse().success).toBe(true);
  });

  it("Split: named branches with conditions, mode and unmatched", async () => {
    const f = setup("split");
    fireEvent.change(screen.getByLabelText("Output 1 name"), { target: { value: "germany" } });
    await setCode("Output 1 condition", 'geo.country == "DE"');
    await f.user.click(screen.getByRole("button", { name: "+ output" }));
    await setCode("Output 2 condition", "amount > 100.0");
    await f.user.selectOptions(screen.getByLabelText("Route each record to"), "all");
    await f.user.selectOptions(screen.getByLabelText("Unmatched records"), "drop");
    const parsed = f.parse();
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data).toEqual({ outputs: [{ name: "germany", condition: 'geo.country == "DE"' }, { name: "out2", condition: "amount > 100.0" }], mode: "all", unmatched: "drop" });
  });

  it("Union: an optional source-name field, removed when cleared", async () => {
    const f = setup("union");
    await f.user.type(screen.getByLabelText("Source field"), "origin");
    expect(f.parse().data).toEqual({ sourceField: "origin" });
    await f.user.clear(screen.getByLabelText("Source field"));
    expect(f.config()).toEqual({ sourceField: undefined });
    expect(f.parse().success).toBe(true);
  });

  it("Window: hopping window, event-time field, lateness, keys and aggregates", async () => {
    const f = setup("window");
    await f.user.selectOptions(screen.getByLabelText("Window type"), "hopping");
    fireEvent.change(screen.getByLabelText("Size"), { target: { value: "5" } });
    await f.user.selectOptions(screen.getByLabelText("Size unit"), "m");
    fireEvent.change(screen.getByLabelText("Slide"), { target: { value: "1" } });
    await f.user.selectOptions(screen.getByLabelText("Slide unit"), "m");
    await f.user.selectOptions(screen.getByLabelText("Event time field"), "ts");
    fireEvent.change(screen.getByLabelText("Allowed lateness"), { target: { value: "30" } });
    await f.user.selectOptions(screen.getByLabelText("Add a key field"), "user_id");
    await f.user.click(screen.getByRole("button", { name: "+ aggregate" }));
    await f.user.selectOptions(screen.getByLabelText("Aggregate 2 function"), "sum");
    await f.user.selectOptions(screen.getByLabelText("Aggregate 2 field"), "amount");
    fireEvent.change(screen.getByLabelText("Aggregate 2 output name"), { target: { value: "total" } });
    const parsed = f.parse();
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data).toMatchObject({
      window: { kind: "hopping", size: "5m", slide: "1m" },
      timeField: "ts",
      allowedLateness: "30s",
      keys: [{ name: "user_id", expr: "user_id" }],
      aggregates: [{ name: "count", fn: "count" }, { name: "total", fn: "sum", field: "amount" }],
    });
    // Session windows have a gap instead of size/slide.
    await f.user.selectOptions(screen.getByLabelText("Window type"), "session");
    expect(f.config().window).toEqual({ kind: "session", gap: "5m" });
    expect(f.parse().success).toBe(true);
  });

  it("UDF: an inline flatMap function with declared output fields and limits", async () => {
    const f = setup("udf");
    await f.user.selectOptions(screen.getByLabelText("Form"), "flatMap");
    // The untouched starter source follows the form.
    expect(f.config().function).toEqual({ inline: { form: "flatMap", source: "(r) => [r]" } });
    await setCode("Function source", "(r) => r.items.map((i) => ({ item: i }))");
    await f.user.click(screen.getByRole("button", { name: "+ output field" }));
    fireEvent.change(screen.getByLabelText("Output field 1 name"), { target: { value: "item" } });
    fireEvent.change(screen.getByLabelText("Time limit per batch (ms)"), { target: { value: "500" } });
    const parsed = f.parse();
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data).toEqual({ function: { inline: { form: "flatMap", source: "(r) => r.items.map((i) => ({ item: i }))" } }, outputSchema: [{ name: "item", type: "string" }], timeoutMs: 500, memoryMb: 64 });
    // The test run samples the upstream Source's stream when there are no preview rows.
    expect(screen.getByRole("region", { name: "Test run" }).textContent).toContain("ods.clicks");
  });

  it("Source: searchable picker shows layer, owner and schema; Sink lists only the team's own streams", async () => {
    const f = setup("source");
    expect(within(screen.getByLabelText("Stream")).getAllByRole("option").map((o) => o.textContent)).toEqual(["Choose a stream…", "ods.clicks · ODS · growth", "dwd.orders · DWD · shop", "dws.totals · DWS · growth"]);
    await f.user.type(screen.getByLabelText("Search by name, layer, owner or field"), "order_id");
    expect(within(screen.getByLabelText("Stream")).getAllByRole("option").map((o) => o.textContent)).toEqual(["Choose a stream…", "dwd.orders · DWD · shop"]);
    await f.user.selectOptions(screen.getByLabelText("Stream"), "dwd.orders");
    expect(f.parse().data).toEqual({ stream: "dwd.orders" });
    expect(screen.getByTestId("stream-summary").textContent).toContain("owned by shop");
    expect(within(screen.getByTestId("stream-summary")).getByLabelText("Schema fields").textContent).toContain("order_id · string");
    cleanup();

    const sink = setup("sink");
    expect(within(screen.getByLabelText("Stream")).getAllByRole("option").map((o) => (o as HTMLOptionElement).value)).toEqual(["", "ods.clicks", "dws.totals"]);
    await sink.user.selectOptions(screen.getByLabelText("Stream"), "dws.totals");
    expect(sink.parse().data).toEqual({ stream: "dws.totals" });
    await sink.user.click(screen.getByRole("button", { name: "+ Create a new stream for this sink" }));
    // The new stream takes the sink's input schema.
    expect(screen.getByText(/Schema: the sink's input/).textContent).toContain("user_id, amount, ts, geo");
  });
});

describe("Inspector diagnostics", () => {
  it("shows each validator diagnostic under the field its path names, node-level ones on top, and the rest below", () => {
    setup("projection", {
      config: { fields: [{ name: "uid", from: "user_idd" }], keepOthers: false },
      diagnostics: [
        { nodeId: "n1", severity: "error", path: "config.fields[0].from", message: '"user_idd" is not an input field — did you mean "user_id"?' },
        { nodeId: "n1", severity: "warning", path: "", message: "node output is not connected" },
        { nodeId: "n1", severity: "error", path: "config.unknownThing", message: "something else" },
        { nodeId: "other", severity: "error", path: "config.fields[0].from", message: "belongs to another node" },
      ],
    });
    const picker = screen.getByLabelText("Field 1 copied from");
    const describedBy = document.getElementById(picker.getAttribute("aria-describedby")!)!;
    expect(describedBy.textContent).toContain('did you mean "user_id"?');
    expect(screen.getByRole("list", { name: "Node problems" }).textContent).toBe("node output is not connected");
    expect(screen.getByRole("list", { name: "Other problems" }).textContent).toBe("unknownThing: something else");
    expect(document.body.textContent).not.toContain("belongs to another node");
    // A picked value the input does not have stays visible instead of being replaced.
    expect((picker as HTMLSelectElement).value).toBe("user_idd");
  });

  it("every control has an accessible name", () => {
    for (const type of ["projection", "split", "window", "udf", "sink"] as NodeType[]) {
      setup(type);
      const controls = [...document.querySelectorAll("input, select, textarea, button, [contenteditable=true]")] as HTMLElement[];
      expect(controls.length).toBeGreaterThan(2);
      for (const el of controls) {
        const id = el.getAttribute("id");
        const named = el.getAttribute("aria-label") || (id && [...document.querySelectorAll("label")].some((l) => l.htmlFor === id)) || el.closest("label") || (el.tagName === "BUTTON" && el.textContent?.trim());
        expect(named, `${type}: ${el.outerHTML.slice(0, 120)}`).toBeTruthy();
      }
      cleanup();
    }
  });

  it("is read-only for team viewers: native controls disabled, code editors not editable, no delete", async () => {
    for (const type of ["filter", "projection", "window", "udf"] as NodeType[]) {
      const f = setup(type, { readOnly: true });
      const before = structuredClone(f.config());
      expect(screen.getByText(/view access/)).toBeTruthy();
      expect(screen.queryByRole("button", { name: "Delete node" })).toBeNull();
      const native = [...document.querySelectorAll("input, select, textarea, button")] as (HTMLInputElement | HTMLButtonElement)[];
      for (const el of native) expect(el.matches(":disabled"), `${type}: ${el.outerHTML.slice(0, 100)}`).toBe(true);
      for (const content of document.querySelectorAll(".cm-content")) expect(content.getAttribute("contenteditable")).toBe("false");
      expect(f.config()).toEqual(before);
      cleanup();
    }
  });
});
