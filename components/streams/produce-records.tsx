"use client";

import { useId, useState } from "react";
import { ApiError, apiFetch } from "@/components/ui/api";
import type { FieldType, StreamSchema } from "@/lib/pipeline/schema";

function exampleOf(t: FieldType): unknown {
  if (t === "string") return "text";
  if (t === "int") return 1;
  if (t === "float") return 1.5;
  if (t === "bool") return true;
  if (t === "timestamp") return 1_767_225_600_000;
  if (typeof t === "object" && "list" in t) return [exampleOf(t.list)];
  if (typeof t === "object" && "struct" in t) return Object.fromEntries(t.struct.map((f) => [f.name, exampleOf(f.type)]));
  return null;
}

/** A placeholder record built from the schema, so the expected shape is visible. */
export function exampleRecord(schema: StreamSchema | null): string {
  return schema ? JSON.stringify(Object.fromEntries(schema.map((f) => [f.name, exampleOf(f.type)]))) : '{"field": "value"}';
}

/** One JSON object per line → the records to produce, or the line that is not one. */
export function parseRecordLines(text: string, keyField: string): { records: { key?: string; value: Record<string, unknown> }[] } | { error: string } {
  const records: { key?: string; value: Record<string, unknown> }[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return { error: `Line ${i + 1} is not valid JSON.` };
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: `Line ${i + 1} is not a JSON object: each line is one record.` };
    const v = value as Record<string, unknown>;
    const key = keyField ? v[keyField] : undefined;
    records.push(key === undefined || key === null ? { value: v } : { key: typeof key === "string" ? key : JSON.stringify(key), value: v });
  }
  if (!records.length) return { error: "Write at least one record: one JSON object per line." };
  return { records };
}

/**
 * Produce sample records by hand (owner team editors): for trying a pipeline
 * before a real producer exists. Records are checked against the stream's
 * schema by the API; one bad record writes nothing and every problem is listed.
 */
export function ProduceRecords({ team, stream, schema }: { team: string; stream: string; schema: StreamSchema | null }) {
  const example = exampleRecord(schema);
  const [text, setText] = useState("");
  const [keyField, setKeyField] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ tone: "ok" | "error"; text: string; details?: string[] } | null>(null);
  const id = useId();

  async function produce() {
    const parsed = parseRecordLines(text, keyField.trim());
    if ("error" in parsed) return setResult({ tone: "error", text: parsed.error });
    setBusy(true);
    try {
      const r = await apiFetch<{ written: number }>(`/api/v1/teams/${team}/streams/${encodeURIComponent(stream)}/records`, { body: { records: parsed.records } });
      setResult({ tone: "ok", text: `Wrote ${r.written} record${r.written === 1 ? "" : "s"}.` });
      setText("");
    } catch (e) {
      const details = e instanceof ApiError ? e.details?.map((d) => `${d.path[1] !== undefined ? `record ${Number(d.path[1]) + 1}: ` : ""}${d.message}`) : undefined;
      setResult({ tone: "error", text: e instanceof Error ? e.message : String(e), details });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="rounded-xl border border-slate-200 bg-white p-4" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="mb-1 text-sm font-semibold">Produce records</h2>
      <p className="mb-2 text-xs text-slate-500">One JSON object per line, checked against the schema. For trying pipelines before a real producer writes here.</p>
      <label htmlFor={`${id}-records`} className="sr-only">Records, one JSON object per line</label>
      <textarea
        id={`${id}-records`}
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={4}
        placeholder={example}
        spellCheck={false}
        className="w-full rounded-md border border-slate-300 px-2 py-1.5 font-mono text-xs focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-600"
      />
      <div className="mt-2 flex items-center gap-2">
        <label htmlFor={`${id}-key`} className="text-xs text-slate-600">Key field</label>
        <input id={`${id}-key`} value={keyField} onChange={(e) => setKeyField(e.target.value)} placeholder="optional" className="w-28 rounded-md border border-slate-300 px-2 py-1 text-xs focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-600" />
        <button type="button" onClick={produce} disabled={busy || !text.trim()} className="ml-auto rounded-md bg-brand-600 px-3 py-1.5 text-sm font-semibold text-white disabled:opacity-40 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-600 focus-visible:ring-offset-2">
          {busy ? "Producing…" : "Produce"}
        </button>
      </div>
      {result ? (
        <div role="status" className={`mt-2 rounded px-2 py-1 text-xs ${result.tone === "ok" ? "bg-emerald-50 text-emerald-800" : "bg-red-50 text-red-700"}`}>
          {result.text}
          {result.details?.length ? <ul className="mt-1 list-disc pl-4">{result.details.slice(0, 10).map((d, i) => <li key={i}>{d}</li>)}</ul> : null}
        </div>
      ) : null}
    </section>
  );
}
