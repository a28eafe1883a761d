// @vitest-environment jsdom
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { exampleRecord, parseRecordLines, ProduceRecords } from "./produce-records";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("producing records by hand", () => {
  it("parses one JSON object per line, takes the key from the key field, and names the bad line", () => {
    expect(parseRecordLines('{"user":"u1","n":1}\n\n{"user":"u2","n":2}', "user")).toEqual({
      records: [{ key: "u1", value: { user: "u1", n: 1 } }, { key: "u2", value: { user: "u2", n: 2 } }],
    });
    expect(parseRecordLines('{"n":1}', "")).toEqual({ records: [{ value: { n: 1 } }] });
    expect(parseRecordLines('{"n":1}\n{"n":', "")).toEqual({ error: "Line 2 is not valid JSON." });
    expect(parseRecordLines("[1]", "")).toEqual({ error: "Line 1 is not a JSON object: each line is one record." });
    expect(parseRecordLines("  ", "")).toHaveProperty("error");
  });

  it("shows an example built from the schema", () => {
    expect(JSON.parse(exampleRecord([{ name: "user", type: "string" }, { name: "amount", type: "float" }, { name: "tags", type: { list: "string" } }]))).toEqual({ user: "text", amount: 1.5, tags: ["text"] });
  });

  it("posts the records and lists the API's per-record problems when it refuses them", async () => {
    const calls: unknown[] = [];
    vi.stubGlobal("fetch", async (_url: string, init: { body: string }) => {
      calls.push(JSON.parse(init.body));
      return new Response(JSON.stringify({ error: { message: "1 problem(s) with the records; nothing was written.", details: [{ path: ["records", 1, "value"], message: "amount: expected float, got string" }] } }), { status: 422 });
    });
    render(<ProduceRecords team="acme" stream="ods.orders" schema={[{ name: "amount", type: "float" }]} />);
    const user = userEvent.setup();
    await user.click(screen.getByLabelText("Records, one JSON object per line"));
    await user.paste('{"amount":1.5}\n{"amount":"x"}');
    await user.click(screen.getByRole("button", { name: "Produce" }));
    expect(calls).toEqual([{ records: [{ value: { amount: 1.5 } }, { value: { amount: "x" } }] }]);
    expect((await screen.findByRole("status")).textContent).toContain("record 2: amount: expected float, got string");
  });
});
