import { describe, expect, it } from "vitest";
import { formatProblems, parsePath, pipelineProblems, sqlProblems } from "./diagnostics";
import type { Diagnostic } from "@/lib/pipeline";

const file = [
  "{ \"name\": \"big-clicks\", \"pipeline\": { \"version\": 1,",
  "  \"nodes\": [",
  "    { \"id\": \"clicks\", \"type\": \"source\", \"config\": { \"stream\": \"ods.ads.clicks\" } },",
  "    { \"id\": \"big\", \"type\": \"filter\", \"config\": { \"predicate\": \"amout > 10.0\" } },",
  "    { \"id\": \"shape\", \"type\": \"projection\", \"config\": { \"fields\": [ { \"name\": \"s\", \"expr\": \"\\\"\\u00e9\\\" + nme\" } ] } } ],",
  "  \"edges\": [ { \"source\": \"clicks\", \"target\": \"big\" }, { \"source\": \"big\", \"target\": \"ghost\" } ] } }",
].join("\n");

describe("CLI diagnostics", () => {
  it("places expression problems at their file line and column with a caret under the range", () => {
    const d: Diagnostic[] = [{ severity: "error", code: "unknown-field", message: 'unknown field "amout"', nodeId: "big", path: "config.predicate", range: { start: 0, end: 5 } }];
    expect(formatProblems(pipelineProblems(d, { file: "big.json", text: file, prefix: ["pipeline"] }))).toEqual([
      'big.json:4:64: error: config.predicate: unknown field "amout" [unknown-field, node big]',
      "   | amout > 10.0",
      "   | ^^^^^",
    ]);
  });

  it("counts escapes in the JSON string when mapping an expression range to a column", () => {
    // The expression is `"é" + nme`; the file spells é as \\u00e9, so `nme` (characters 6–9) starts 5 raw characters later.
    const d: Diagnostic[] = [{ severity: "error", code: "unknown-field", message: "unknown field nme", nodeId: "shape", path: "config.fields[0].expr", range: { start: 6, end: 9 } }];
    const [head, text, marks] = formatProblems(pipelineProblems(d, { file: "f.json", text: file, prefix: ["pipeline"] }));
    const line5 = file.split("\n")[4];
    const col = Number(/f\.json:5:(\d+):/.exec(head)![1]);
    expect(line5.slice(col - 1, col + 2)).toBe("nme");
    expect(text).toBe('   | "é" + nme');
    expect(marks).toBe("   |       ^^^");
  });

  it("shows the JSON line for problems outside expressions, and pipeline-level paths from the root", () => {
    const d: Diagnostic[] = [
      { severity: "error", code: "unknown-node", message: 'edge refers to node "ghost", which does not exist', path: "edges[1]" },
      { severity: "warning", code: "dangling-node", message: "this node's output reaches no sink", nodeId: "shape", path: "" },
    ];
    const out = formatProblems(pipelineProblems(d, { file: "f.json", text: file, prefix: ["pipeline"] }));
    expect(out[0]).toBe('f.json:6:55: error: edges[1]: edge refers to node "ghost", which does not exist [unknown-node]');
    expect(out[1]).toBe(`  6 | ${file.split("\n")[5]}`);
    expect(out[2]).toMatch(/^ {4}\| {55}\^+$/);
    expect(out[3]).toBe("f.json:5:13: warning: this node's output reaches no sink [dangling-node, node shape]");
  });

  it("prints without a file when there is none, still with the expression caret from the definition", () => {
    const pipeline = { nodes: [{ id: "f", type: "filter", config: { predicate: "a > 1 &&\n  b >> 2" } }] };
    const d: Diagnostic[] = [{ severity: "error", code: "syntax", message: "unexpected >", nodeId: "f", path: "config.predicate", range: { start: 13, end: 15 } }];
    expect(formatProblems(pipelineProblems(d, { pipeline }))).toEqual(["error: config.predicate: unexpected > [syntax, node f]", "   |   b >> 2", "   |     ^^"]);
  });

  it("cuts long lines around the caret", () => {
    const text = "x".repeat(300) + "BAD" + "y".repeat(300);
    const [line, marks] = formatProblems([{ severity: "error", message: "bad", excerpt: { text, start: 300, end: 303, lineNo: 1 } }]).slice(1);
    expect(line.length).toBeLessThan(120);
    expect(line.slice(marks.indexOf("^"), marks.indexOf("^") + 3)).toBe("BAD");
  });

  it("prints SQL problems at their line and column, ordered by place", () => {
    const sql = "INSERT INTO `dwd.x`\nSELECT a\nFROM `ods.y`\nWHERE amont > 1;";
    const out = formatProblems(sqlProblems("q.sql", sql, [
      { severity: "error", code: "unknown-field", message: 'unknown field "amont"', nodeId: "f", path: "config.predicate", span: { line: 4, column: 7, endLine: 4, endColumn: 12 } },
      { severity: "warning", code: "w", message: "first", path: "", span: { line: 1, column: 1, endLine: 1, endColumn: 7 } },
    ]));
    expect(out).toEqual(["q.sql:1:1: warning: first [w]", "  1 | INSERT INTO `dwd.x`", "    | ^^^^^^", 'q.sql:4:7: error: unknown field "amont" [unknown-field, node f]', "  4 | WHERE amont > 1;", "    |       ^^^^^"]);
  });

  it("parses field paths", () => {
    expect(parsePath("config.fields[2].expr")).toEqual(["config", "fields", 2, "expr"]);
    expect(parsePath("")).toEqual([]);
  });
});
