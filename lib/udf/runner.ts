/**
 * The script evaluated in every UDF isolate before the user's code. It keeps
 * its own references to JSON, Array.isArray and String, taken before user code
 * runs, and appends with index assignment rather than push, so a function that
 * tampers with built-ins can only spoil its own output — which the host
 * validates anyway (see sandbox.ts `decode`).
 *
 * One chunk crosses the isolate boundary twice: a JSON string in, one JSON
 * string out (records with a field whose value is undefined or a function lose
 * that field, as JSON does): `{"o": [records], "i": [input index per record], "e": [[index, reason]]}`.
 * The encoded entry (`__udf_begin_encoded`, see ENCODED below) takes the
 * records' own JSON texts and returns one line per output record instead.
 * `at` is the index of the record being run, so after a timeout the host can
 * blame that record and resume with the next one.
 */
export const MAX_RECORD_CHARS = 1 << 20;
export const MAX_FLATMAP_OUTPUTS = 1_000;
/** Above this a batch's output is encoded record by record so oversized records can be singled out. */
export const MAX_BATCH_CHARS = 64 << 20;
export const MAX_REASON_CHARS = 500;

export const RUNNER_SOURCE = `
(function (global) {
  "use strict";
  const parse = JSON.parse, stringify = JSON.stringify, isArray = Array.isArray, Str = String;
  const apply = Reflect.apply, split = String.prototype.split, indexOf = String.prototype.indexOf, Fn = Function;
  const MAX_RECORD_CHARS = ${MAX_RECORD_CHARS}, MAX_BATCH_CHARS = ${MAX_BATCH_CHARS}, MAX_FLAT = ${MAX_FLATMAP_OUTPUTS}, MAX_REASON = ${MAX_REASON_CHARS};
  let fn = null, form = "map", batch = null, at = 0, phase = "idle", outs = null, idx = null, errs = null;
  // Encoded batches (see ENCODED below): inputs the runner could not read, the source check, filter's re-encoded inputs.
  let encoded = false, unread = null, check = null, keptBody = "", keptBad = false;

  function describe(v) {
    if (v === null) return "null";
    if (v === undefined) return "undefined";
    if (isArray(v)) return "a list";
    return typeof v === "object" ? "an object" : typeof v;
  }
  function reason(e) {
    try {
      if (e !== null && typeof e === "object" && typeof e.message === "string") {
        const name = typeof e.name === "string" ? e.name : "Error";
        return "function threw " + name + ": " + e.message;
      }
      return "function threw " + Str(e);
    } catch (_) {
      return "function threw a value that cannot be described";
    }
  }
  function fail(i, msg) {
    errs[errs.length] = [i, msg.length > MAX_REASON ? msg.substring(0, MAX_REASON) : msg];
  }
  function emit(i, rec) {
    if (rec === null || typeof rec !== "object" || isArray(rec)) return "must return an object (a record), got " + describe(rec);
    outs[outs.length] = rec;
    idx[idx.length] = i;
    return null;
  }
  // One stringify for the whole batch is the fast path; when it throws (a cycle,
  // a BigInt) or the batch is too big, each record is encoded on its own so only
  // the records at fault become errors.
  function encodeOutputs() {
    let body = null;
    try { body = stringify(outs); } catch (_) { body = null; }
    if (body !== null && body.length <= MAX_BATCH_CHARS) return body;
    const parts = [], keepIdx = [], bad = new Set();
    const texts = new Array(outs.length);
    for (let j = 0; j < outs.length; j++) {
      const i = idx[j];
      if (bad.has(i)) continue;
      let t = null, why = null;
      try { t = stringify(outs[j]); } catch (e) { why = "returned a record that cannot be encoded as JSON: " + reason(e).replace("function threw ", ""); }
      if (t !== null && t !== undefined && t.length > MAX_RECORD_CHARS) why = "returned a record larger than " + MAX_RECORD_CHARS + " characters";
      if (why !== null) { bad.add(i); fail(i, (form === "map" ? "map " : "flatMap ") + why); continue; }
      texts[j] = t;
    }
    for (let j = 0; j < outs.length; j++) {
      if (bad.has(idx[j])) continue;
      parts[parts.length] = texts[j];
      keepIdx[keepIdx.length] = idx[j];
    }
    idx = keepIdx;
    return "[" + parts.join(",") + "]";
  }
  function encode() {
    if (encoded) return encodeTexts();
    phase = "encode";
    const body = outs.length === 0 ? "[]" : encodeOutputs();
    const text = '{"o":' + body + ',"i":' + stringify(idx) + ',"e":' + stringify(errs) + "}";
    batch = null; outs = null; idx = null; errs = null; phase = "idle";
    return text;
  }
  function run() {
    phase = "run";
    const n = batch.length;
    for (; at < n; at++) {
      const i = at;
      let kept = null;
      try {
        let rec = batch[i];
        if (encoded) {
          // Parsed here, one record at a time, so a record that is not JSON only costs itself.
          try { rec = parse(rec); } catch (_) { unread[unread.length] = i; continue; }
          if (rec === null || typeof rec !== "object" || isArray(rec) || (check !== null && !check(rec))) { unread[unread.length] = i; continue; }
          // filter writes the input record itself, as decoded before the function could change it.
          if (form === "filter") { try { kept = stringify(rec); } catch (_) { kept = null; } }
        }
        const r = fn(rec);
        if (form === "filter") {
          if (r === true) {
            idx[idx.length] = i;
            if (encoded) {
              if (typeof kept === "string" && kept[0] === "{") keptBody += "\\n" + kept;
              else keptBad = true;
            }
          }
          else if (r !== false) fail(i, "filter must return true or false, got " + describe(r));
        } else if (form === "map") {
          const bad = emit(i, r);
          if (bad !== null) fail(i, "map " + bad);
        } else if (!isArray(r)) {
          fail(i, "flatMap must return a list of records, got " + describe(r));
        } else if (r.length > MAX_FLAT) {
          fail(i, "flatMap returned " + r.length + " records for one input (at most " + MAX_FLAT + ")");
        } else {
          const o0 = outs.length;
          let bad = null;
          for (let j = 0; j < r.length && bad === null; j++) bad = emit(i, r[j]);
          if (bad !== null) { outs.length = o0; idx.length = o0; fail(i, "flatMap " + bad); }
        }
      } catch (e) {
        fail(i, reason(e));
      }
    }
    return encode();
  }
  // ENCODED: one line of JSON header {"i": input index per output or null when
  // it is 0..n-1, "e": [[index, reason]], "u": [unread index]}, then one line per
  // output record. Lines are split on a newline, which JSON.stringify never emits
  // raw, and each record is the native stringify of an object (it starts with
  // "{"), so the host can write the lines as they are without parsing them.
  // The fast path and the fallbacks mirror encodeOutputs, so both paths give
  // the same records and errors.
  function dropProto(k, v) { return k === "__proto__" ? undefined : v; }
  /** A record's text: a string starting with "{", an Error-like thrown value in a box, or null for a non-object text (toJSON). */
  function textOf(rec, proto) {
    let t;
    try { t = proto ? stringify(rec, dropProto) : stringify(rec); } catch (e) { return { threw: e }; }
    return typeof t === "string" && t[0] === "{" ? t : null;
  }
  // Texts go straight into one string, never through an array: an array's
  // elements could be intercepted by setters the function put on
  // Array.prototype, and the host writes these lines without parsing them.
  function encodeTexts() {
    phase = "encode";
    let body = "", keepIdx = idx, malformed = false;
    if (form === "filter") {
      body = keptBody;
      malformed = keptBad;
    } else {
      // The host's decode drops "__proto__" keys (sandbox.ts decode); so does this, when the batch has one.
      let total = 0, threw = false;
      for (let j = 0; j < idx.length; j++) {
        const t = textOf(outs[j], false);
        if (t === null) { malformed = true; break; }
        if (typeof t !== "string") { threw = true; break; }
        total += t.length;
        body += "\\n" + t;
      }
      if (!malformed && !threw && apply(indexOf, body, ['"__proto__"']) !== -1) {
        body = "";
        for (let j = 0; j < idx.length; j++) {
          const t = textOf(outs[j], true);
          if (t === null) { malformed = true; break; }
          if (typeof t !== "string") { threw = true; break; }
          body += "\\n" + t;
        }
      }
      // As encodeOutputs (whose "[a,b]" is total + commas + brackets long): only when the
      // batch as a whole cannot be encoded are records singled out.
      if (!malformed && (threw || total + idx.length + 1 > MAX_BATCH_CHARS)) {
        const prefix = form === "map" ? "map " : "flatMap ";
        const bad = new Set();
        for (let j = 0; j < idx.length; j++) {
          const i = idx[j];
          if (bad.has(i)) continue;
          const t = textOf(outs[j], true);
          let why = null;
          if (t === null) { malformed = true; break; }
          if (typeof t !== "string") why = "returned a record that cannot be encoded as JSON: " + reason(t.threw).replace("function threw ", "");
          else if (t.length > MAX_RECORD_CHARS) why = "returned a record larger than " + MAX_RECORD_CHARS + " characters";
          if (why !== null) { bad.add(i); fail(i, prefix + why); }
        }
        body = "";
        keepIdx = [];
        for (let j = 0; j < idx.length && !malformed; j++) {
          if (bad.has(idx[j])) continue;
          const t = textOf(outs[j], true);
          if (typeof t !== "string") { malformed = true; break; }
          body += "\\n" + t;
          keepIdx[keepIdx.length] = idx[j];
        }
      }
    }
    let out;
    if (malformed) out = '{"m":1}';
    else {
      const identity = form === "map" && keepIdx.length === batch.length;
      out = '{"i":' + (identity ? "null" : stringify(keepIdx)) + ',"e":' + stringify(errs) + ',"u":' + stringify(unread) + "}" + body;
    }
    batch = null; outs = null; idx = null; errs = null; unread = null; keptBody = ""; keptBad = false; encoded = false; phase = "idle";
    return out;
  }
  global.__udf_set = function (f, theForm) {
    if (typeof f !== "function") throw new TypeError("the source must be a function expression, like (r) => ({ ...r }), but it is " + describe(f));
    fn = f; form = theForm;
  };
  global.__udf_begin = function (json) {
    phase = "parse"; at = 0; outs = []; idx = []; errs = []; encoded = false;
    batch = parse(json);
    return run();
  };
  // Records as their JSON texts, separated by U+0001 (never in valid JSON text): see ENCODED.
  global.__udf_begin_encoded = function (text, n) {
    phase = "parse"; at = 0; outs = []; idx = []; errs = []; unread = []; keptBody = ""; keptBad = false;
    batch = apply(split, text, ["\\u0001"]);
    if (batch.length !== n) { batch = null; phase = "idle"; return '{"m":1}'; }
    encoded = true;
    return run();
  };
  // The source record check (record-check-source.ts); null removes it.
  global.__udf_check = function (body) { check = body === null ? null : Fn("isArray", body)(isArray); };
  global.__udf_where = function () { return phase === "run" ? at : -1; };
  global.__udf_resume = function (why) { fail(at, why); at++; return run(); };
  global.__udf_abort = function (whyCurrent, whyRest) {
    if (batch === null) return null;
    fail(at, whyCurrent);
    for (at++; at < batch.length; at++) fail(at, whyRest);
    return encode();
  };
})(globalThis);
`;
