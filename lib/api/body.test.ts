import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import { decodeUtf8Body, exceedsDepth, firstInvalidUtf8, readBodyBytes, readJsonBody } from "./body";

const strict = new TextDecoder("utf-8", { fatal: true });
const isUtf8 = (b: Uint8Array) => {
  try {
    strict.decode(b);
    return true;
  } catch {
    return false;
  }
};

describe("firstInvalidUtf8", () => {
  it("agrees with a fatal TextDecoder on arbitrary bytes, and the prefix before it is valid", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const at = firstInvalidUtf8(bytes);
        expect(at === -1).toBe(isUtf8(bytes));
        if (at >= 0) expect(isUtf8(bytes.subarray(0, at))).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });
  it("finds overlong forms, surrogates and truncated sequences", () => {
    expect(firstInvalidUtf8(Buffer.from("caf\u00e9", "utf8"))).toBe(-1);
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0xc0, 0x80]))).toBe(1); // overlong NUL
    expect(firstInvalidUtf8(Uint8Array.from([0xed, 0xa0, 0x80]))).toBe(0); // U+D800
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0x62, 0xe2, 0x82]))).toBe(2); // truncated €
  });
});

describe("decodeUtf8Body", () => {
  it("names the byte and the JSON field it is in", () => {
    const body = Buffer.concat([Buffer.from('{"records":[{"value":{"name":"caf'), Buffer.from([0xe9]), Buffer.from('"}}]}')]);
    try {
      decodeUtf8Body(body);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).code).toBe("bad_request");
      expect((e as AppError).message).toMatch(/byte 0xe9 at offset 33 \(in records\[0\]\.value\.name\)/);
    }
  });
});

describe("readBodyBytes", () => {
  const post = (body: BodyInit, headers: Record<string, string> = {}) => new Request("http://x/", { method: "POST", body, headers, duplex: "half" } as RequestInit);
  it("refuses by Content-Length before reading", async () => {
    await expect(readBodyBytes(post("{}", { "content-length": "5000" }), 1_024)).rejects.toMatchObject({ code: "too_large" });
  });
  it("stops reading a streamed body as soon as it passes the limit", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled += 1_000;
        c.enqueue(new Uint8Array(1_000));
        if (pulled >= 1_000_000) c.close();
      },
    });
    await expect(readBodyBytes(post(body), 10_000)).rejects.toMatchObject({ code: "too_large" });
    expect(pulled).toBeLessThan(20_000);
  });
  it("returns a body within the limit whole", async () => {
    expect(Buffer.from(await readBodyBytes(post("x".repeat(1_024)), 1_024)).toString()).toBe("x".repeat(1_024));
  });
});

describe("exceedsDepth", () => {
  it("counts nesting of objects and lists without recursion", () => {
    expect(exceedsDepth(1, 1)).toBe(false);
    expect(exceedsDepth({ a: [1] }, 2)).toBe(false);
    expect(exceedsDepth({ a: [1] }, 1)).toBe(true);
    expect(exceedsDepth([[[]]], 3)).toBe(false);
    expect(exceedsDepth([[[]]], 2)).toBe(true);
    expect(exceedsDepth(JSON.parse("[".repeat(200_000) + "]".repeat(200_000)), 64)).toBe(true);
  });
  it("a body nested too deep is a 422, not a stack overflow", async () => {
    const req = new Request("http://x/", { method: "POST", body: `{"x":${"[".repeat(100_000)}${"]".repeat(100_000)}}` });
    await expect(readJsonBody(req)).rejects.toMatchObject({ code: "invalid_input" });
  });
});
