import { describe, expect, it } from "vitest";
import { jsonSyntaxError, splitLines } from "./produce";

const errorOf = (text: string) => {
  try {
    JSON.parse(text);
  } catch (e) {
    return jsonSyntaxError(text, e);
  }
  throw new Error(`${text} parsed`);
};

describe("jsonSyntaxError", () => {
  it("says what is wrong and where, without quoting the line", () => {
    expect(errorOf("{oops")).toEqual({ message: "expected property name or '}'", offset: 1, length: 1 });
    expect(errorOf("[1 2]")).toEqual({ message: "expected ',' or ']' after array element", offset: 3, length: 1 });
    expect(errorOf('{"a":"x')).toMatchObject({ message: "unterminated string" });
    // V8 quotes the input for these: the place comes from jsonc-parser instead.
    const tru = errorOf('{"a":tru}');
    expect(tru).toEqual({ message: "unexpected characters (not a JSON value: strings need double quotes)", offset: 5, length: 3 });
    expect(errorOf('{"a":.5}').message).not.toContain('{"a"');
  });
});

describe("splitLines", () => {
  async function* chunks(...parts: string[]) {
    for (const p of parts) yield Buffer.from(p);
  }
  it("numbers lines across chunk boundaries, with CRLF and without a final newline", async () => {
    const lines: [number, string][] = [];
    for await (const l of splitLines(chunks("a\r", "\nb", "c\n\n", "d\r"))) lines.push([l.no, l.bytes.toString()]);
    expect(lines).toEqual([[1, "a"], [2, "bc"], [3, ""], [4, "d"]]);
  });
});
