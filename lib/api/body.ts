import { findNodeAtOffset, getNodePath, parseTree } from "jsonc-parser";
import { AppError } from "@/lib/errors";
import { BODY_WRAPPER_DEPTH, limitsEnv } from "@/lib/env/limits";
import { formatPath } from "@/lib/pipeline/diagnostics";

/**
 * Reading request bodies with limits enforced while reading: a body over
 * SLUICE_MAX_BODY_BYTES is refused by its Content-Length before a byte is
 * read, or as soon as the bytes read pass the limit (a chunked body), never
 * after reading it in full. Bodies must be UTF-8 (a bad byte is refused with
 * where it is, never replaced), and JSON nesting is bounded.
 */

const mib = (n: number) => `${Math.round((n / 1_048_576) * 10) / 10} MiB`;

function tooLarge(limit: number): AppError {
  return new AppError("too_large", `The request body is larger than ${mib(limit)} (${limit.toLocaleString("en")} bytes), the limit for one request (SLUICE_MAX_BODY_BYTES): send less per request.`, [{ path: [], message: `at most ${limit} bytes` }]);
}

export async function readBodyBytes(req: Request, maxBytes = limitsEnv().SLUICE_MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [n, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [n, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The body as text, refusing bytes that are not UTF-8 (400) with the byte
 * offset and, for JSON, the field they are in (`records[3].value.name`):
 * decoding them would store U+FFFD instead of what was sent.
 */
export function decodeUtf8Body(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    const path = jsonPathAtByte(bytes, offset);
    const where = path?.length ? formatPath(path) : undefined;
    const byte = bytes[offset]?.toString(16).padStart(2, "0");
    throw new AppError(
      "bad_request",
      `The request body is not valid UTF-8: byte 0x${byte} at offset ${offset}${where ? ` (in ${where})` : ""}. Send text as UTF-8; Sluice refuses other bytes rather than store them changed.`,
      [{ path: path ?? [], message: `invalid UTF-8 at byte ${offset}` }],
    );
  }
}

/** The JSON path of the value that holds byte `offset` (decoded leniently only to find the place). */
function jsonPathAtByte(bytes: Uint8Array, offset: number): (string | number)[] | undefined {
  if (offset < 0) return undefined;
  const lenient = new TextDecoder("utf-8");
  // Everything before the first bad byte is valid, so its decoded length is the character offset.
  const charOffset = lenient.decode(bytes.subarray(0, offset)).length;
  const tree = parseTree(lenient.decode(bytes));
  const node = tree && findNodeAtOffset(tree, charOffset);
  return node ? getNodePath(node) : undefined;
}

/** How deeply objects and lists nest in a parsed JSON value (iteratively: a deep value must not overflow the stack here). */
export function exceedsDepth(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Reads a JSON body within the limits: 413 over the size limit, 400 for bytes
 * that are not UTF-8, 422 for JSON that does not parse or nests deeper than
 * SLUICE_MAX_JSON_DEPTH (+ a few levels for the request's own wrappers).
 */
export async function readJsonBody(req: Request): Promise<unknown> {
  const text = decodeUtf8Body(await readBodyBytes(req));
  if (!text.length) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AppError("invalid_input", "The request body is not valid JSON.", [{ path: [], message: "invalid JSON" }]);
  }
  const maxDepth = limitsEnv().SLUICE_MAX_JSON_DEPTH + BODY_WRAPPER_DEPTH;
  if (exceedsDepth(body, maxDepth)) {
    throw new AppError("invalid_input", `The request body nests objects and lists more than ${maxDepth} levels deep (SLUICE_MAX_JSON_DEPTH is ${limitsEnv().SLUICE_MAX_JSON_DEPTH} for a record value).`, [{ path: [], message: `nested more than ${maxDepth} levels` }]);
  }
  return body;
}

/**
 * The same request with its body read within the size limit, for handlers
 * that read bodies themselves (better-auth): over the limit is a 413 before
 * they see it.
 */
export async function withBodyLimit(req: Request): Promise<Request> {
  if (req.method === "GET" || req.method === "HEAD") return req;
  const body = await readBodyBytes(req);
  return new Request(req, { body: body.byteLength ? (body as unknown as BodyInit) : null });
}
