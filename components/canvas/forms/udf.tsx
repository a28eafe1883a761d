"use client";

import { lazy, Suspense, useEffect, useId, useState } from "react";
import { apiFetch } from "@/components/ui/api";
import { useAction } from "@/components/ui/use-action";
import type { Row } from "@/lib/pipeline/schema";
import { UDF_LIMITS } from "@/lib/pipeline/nodes/udf";
import { addButton, FieldDiagnostics, FormField, inputClass, monoClass, removeAt, removeButton, replaceAt, smallButton, type FormProps } from "./common";

// The JavaScript language support is only needed once a UDF is edited inline, so it loads on demand.
const JsEditor = lazy(() => import("../js-editor").then((m) => ({ default: m.JsEditor })));

type Form = "map" | "flatMap" | "filter";
type FunctionRef = { inline: { form: Form; source: string } } | { name: string; version?: number };
interface DeclaredField {
  name: string;
  type: string;
  nullable?: boolean;
}
interface RegistryFunction {
  name: string;
  description: string;
  latestVersion: number | null;
  form: string | null;
  versions: number;
}
interface TestRun {
  form: Form;
  function?: { name: string; version: number };
  sample: { from: "records" } | { from: "stream"; stream: string };
  records: { input: Row; outputs: Row[]; error?: string }[];
  counts: { input: number; output: number; errors: number };
  truncated?: string;
}

const TEMPLATES: Record<Form, string> = {
  map: "(r) => ({ ...r })",
  flatMap: "(r) => [r]",
  filter: "(r) => true",
};
/** Texts that are starters, not the user's code: a form change may replace them (the palette starts a UDF with "(r) => r"). */
const STARTERS = new Set([...Object.values(TEMPLATES), "(r) => r"]);
const FORM_HELP: Record<Form, string> = {
  map: "Return one record (an object) for each input record.",
  flatMap: "Return a list of records (zero or more) for each input record.",
  filter: "Return true to keep the record, false to drop it.",
};
const TYPES = ["string", "int", "float", "bool", "timestamp", "json"] as const;

/** Where a test run takes its records from: the upstream node's preview rows, else a source stream's newest records. */
export interface UdfSample {
  rows: Row[];
  stream?: string;
}

/** UDF: a registry function (+ version) or an inline JavaScript function; declared output fields; limits; a test run on sample records. */
export function UdfForm({ config, set, input, team, sample }: FormProps & { team: string; sample: UdfSample }) {
  const fn = (config.function as FunctionRef | undefined) ?? { inline: { form: "map", source: TEMPLATES.map } };
  const isInline = "inline" in fn;
  const form: Form | null = isInline ? fn.inline.form : null;
  const outputSchema = config.outputSchema as DeclaredField[] | undefined;
  const [registry, setRegistry] = useState<RegistryFunction[] | null>(null);
  const [registryError, setRegistryError] = useState<string | null>(null);
  const modeName = useId();

  useEffect(() => {
    if (isInline || registry) return;
    apiFetch<{ functions: RegistryFunction[] }>(`/api/v1/teams/${team}/functions`)
      .then((r) => setRegistry(r.functions))
      .catch((e) => setRegistryError(e instanceof Error ? e.message : String(e)));
  }, [isInline, registry, team]);

  const picked = !isInline ? registry?.find((f) => f.name === fn.name) : undefined;
  const effectiveForm = form ?? (picked?.form as Form | undefined) ?? null;
  const setOutputSchema = (fields: DeclaredField[] | undefined) => set({ outputSchema: fields && fields.length ? fields : undefined });

  return (
    <div className="space-y-3">
      <fieldset>
        <legend className="text-sm font-medium text-slate-700">Function</legend>
        <div className="mt-1 flex gap-4 text-sm text-slate-700">
          <label className="flex items-center gap-1">
            <input type="radio" name={modeName} checked={isInline} onChange={() => set({ function: { inline: { form: "map", source: TEMPLATES.map } } })} /> write one here
          </label>
          <label className="flex items-center gap-1">
            <input type="radio" name={modeName} checked={!isInline} onChange={() => set({ function: { name: registry?.[0]?.name ?? "" } })} /> from the registry
          </label>
        </div>
      </fieldset>

      {isInline ? (
        <>
          <FormField label="Form" path="config.function.inline.form" hint={FORM_HELP[fn.inline.form]}>
            {({ id, describedBy }) => (
              <select
                id={id}
                aria-describedby={describedBy}
                value={fn.inline.form}
                onChange={(e) => {
                  const next = e.target.value as Form;
                  // Swap the starter text only while the user has not written their own.
                  const source = STARTERS.has(fn.inline.source.trim()) ? TEMPLATES[next] : fn.inline.source;
                  set({ function: { inline: { form: next, source } } });
                }}
                className={inputClass}
              >
                <option value="map">map: one record out per record</option>
                <option value="flatMap">flatMap: zero or more records out</option>
                <option value="filter">filter: keep or drop</option>
              </select>
            )}
          </FormField>
          <FormField label="Function source (JavaScript)" path="config.function.inline.source" hint="One function expression taking a record. It runs in an isolated sandbox: no network, files or timers.">
            {({ id, describedBy }) => (
              <Suspense fallback={<p className="mt-1 text-xs text-slate-500">Loading the editor…</p>}>
                <JsEditor id={id} label="Function source" describedBy={describedBy} value={fn.inline.source} onChange={(source) => set({ function: { inline: { ...fn.inline, source } } })} />
              </Suspense>
            )}
          </FormField>
        </>
      ) : (
        <>
          <FormField label="Registry function" path="config.function.name" hint={picked ? `${picked.form ?? ""} · ${picked.versions} version(s)${picked.description ? ` · ${picked.description}` : ""}` : registryError ?? (registry && !registry.length ? "This team has no functions yet: write one here instead, or save one with the functions API." : undefined)}>
            {({ id, describedBy }) => (
              <select id={id} aria-describedby={describedBy} value={fn.name} onChange={(e) => set({ function: { name: e.target.value } })} className={monoClass}>
                <option value="">{registry ? "Choose a function…" : "Loading…"}</option>
                {(registry ?? []).map((f) => <option key={f.name} value={f.name}>{f.name}</option>)}
                {fn.name && registry && !picked ? <option value={fn.name}>{fn.name} · not in the registry</option> : null}
              </select>
            )}
          </FormField>
          <FormField label="Version" path="config.function.version" hint="Latest: the deployment pins the newest version when it starts.">
            {({ id, describedBy }) => (
              <select id={id} aria-describedby={describedBy} value={fn.version ?? ""} onChange={(e) => set({ function: { name: fn.name, ...(e.target.value ? { version: Number(e.target.value) } : {}) } })} className={inputClass}>
                <option value="">latest</option>
                {Array.from({ length: picked?.latestVersion ?? fn.version ?? 0 }, (_, i) => i + 1).reverse().map((v) => <option key={v} value={v}>version {v}</option>)}
              </select>
            )}
          </FormField>
        </>
      )}
      <FieldDiagnostics path="config.function" prefix />

      {effectiveForm !== "filter" ? (
        <fieldset className="space-y-2">
          <legend className="text-sm font-medium text-slate-700">Output fields</legend>
          <p className="text-xs text-slate-500">The fields your function returns, so downstream nodes can pick them.</p>
          {(outputSchema ?? []).map((f, i) => (
            <div key={i} className="flex items-end gap-1">
              <div className="min-w-0 flex-1">
                <FormField label={`Output field ${i + 1} name`} path={`config.outputSchema[${i}].name`}>
                  {({ id, describedBy }) => <input id={id} aria-describedby={describedBy} value={f.name} onChange={(e) => setOutputSchema(replaceAt(outputSchema!, i, { ...f, name: e.target.value }))} className={monoClass} />}
                </FormField>
              </div>
              <div className="w-24">
                <FormField label="Type" path={`config.outputSchema[${i}].type`}>
                  {({ id, describedBy }) => (
                    <select id={id} aria-describedby={describedBy} aria-label={`Output field ${i + 1} type`} value={typeof f.type === "string" ? f.type : "json"} onChange={(e) => setOutputSchema(replaceAt(outputSchema!, i, { ...f, type: e.target.value }))} className={inputClass}>
                      {TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
                    </select>
                  )}
                </FormField>
              </div>
              <button type="button" aria-label={`Remove output field ${i + 1}`} onClick={() => setOutputSchema(removeAt(outputSchema!, i))} className={`${removeButton} mb-2`}>remove</button>
            </div>
          ))}
          <FieldDiagnostics path="config.outputSchema" prefix />
          <div className="flex flex-wrap gap-2">
            <button type="button" onClick={() => setOutputSchema([...(outputSchema ?? []), { name: "", type: "string" }])} className={addButton}>+ output field</button>
            {input.length ? <button type="button" onClick={() => setOutputSchema(input.map((f) => ({ name: f.name, type: typeof f.type === "string" ? f.type : "json", ...(f.nullable ? { nullable: true } : {}) })))} className={addButton}>use the input fields</button> : null}
          </div>
        </fieldset>
      ) : null}

      <div className="flex gap-2">
        <FormField label="Time limit per batch (ms)" path="config.timeoutMs">
          {({ id, describedBy }) => <input id={id} aria-describedby={describedBy} type="number" min={UDF_LIMITS.timeoutMs.min} max={UDF_LIMITS.timeoutMs.max} value={(config.timeoutMs as number | undefined) ?? UDF_LIMITS.timeoutMs.default} onChange={(e) => set({ timeoutMs: Number(e.target.value) })} className={monoClass} />}
        </FormField>
        <FormField label="Memory (MB)" path="config.memoryMb">
          {({ id, describedBy }) => <input id={id} aria-describedby={describedBy} type="number" min={UDF_LIMITS.memoryMb.min} max={UDF_LIMITS.memoryMb.max} value={(config.memoryMb as number | undefined) ?? UDF_LIMITS.memoryMb.default} onChange={(e) => set({ memoryMb: Number(e.target.value) })} className={monoClass} />}
        </FormField>
      </div>

      <TestRunPanel team={team} config={config} fn={fn} sample={sample} />
    </div>
  );
}

function TestRunPanel({ team, config, fn, sample }: { team: string; config: Record<string, unknown>; fn: FunctionRef; sample: UdfSample }) {
  const [run, setRun] = useState<TestRun | null>(null);
  const { busy, error, run: act } = useAction();
  const canRun = sample.rows.length > 0 || !!sample.stream;
  const testRun = () =>
    act(async () => {
      const body = {
        function: fn,
        ...(typeof config.timeoutMs === "number" ? { timeoutMs: config.timeoutMs } : {}),
        ...(typeof config.memoryMb === "number" ? { memoryMb: config.memoryMb } : {}),
        ...(sample.rows.length ? { records: sample.rows.slice(0, 20) } : { stream: sample.stream, limit: 20 }),
      };
      try {
        setRun(await apiFetch<TestRun>(`/api/v1/teams/${team}/functions/test-run`, { body }));
      } catch (e) {
        // The previous run's output must not pass for this one's.
        setRun(null);
        throw e;
      }
    });
  return (
    <section aria-label="Test run" className="space-y-2 rounded-md border border-slate-200 p-2">
      <div className="flex items-center justify-between gap-2">
        <p className="text-xs text-slate-600">
          {sample.rows.length ? `On ${Math.min(20, sample.rows.length)} preview row(s) of the upstream node.` : sample.stream ? <>On the newest records of <span className="font-mono">{sample.stream}</span>.</> : "Connect an input (or run Preview) to test the function."}
        </p>
        <button type="button" onClick={testRun} disabled={busy || !canRun} className={`${smallButton} border border-brand-600 text-brand-700 disabled:opacity-40`}>
          {busy ? "Running…" : "Test run"}
        </button>
      </div>
      {error ? <p role="alert" className="text-xs text-red-700">{error}</p> : null}
      {run ? (
        <div data-testid="udf-test-run">
          <p className="text-xs text-slate-600" role="status">
            {run.counts.input} in · {run.counts.output} out · {run.counts.errors} error(s){run.function ? ` · ${run.function.name} v${run.function.version}` : ""}
          </p>
          {run.truncated ? <p className="text-xs text-amber-800">{run.truncated}</p> : null}
          <ol className="mt-1 max-h-64 space-y-1 overflow-y-auto font-mono text-[11px]">
            {run.records.map((r, i) => (
              <li key={i} className={`rounded px-1 py-0.5 ${r.error ? "bg-red-50" : "bg-slate-50"}`}>
                <div className="truncate text-slate-500" title={JSON.stringify(r.input)}>in: {JSON.stringify(r.input)}</div>
                {r.error ? <div className="text-red-700">error: {r.error}</div> : r.outputs.length ? r.outputs.map((o, j) => <div key={j} className="break-all text-slate-900">out: {JSON.stringify(o)}</div>) : <div className="text-slate-500">{run.form === "filter" ? "dropped" : "no output"}</div>}
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </section>
  );
}
