"use client";

import { createContext, useContext, useId, type ReactNode } from "react";
import type { Field, FieldType } from "@/lib/pipeline/schema";

/** A validator diagnostic for the node being edited; `path` is inside the node ("config.fields[2].expr"). */
export interface NodeDiagnostic {
  severity: "error" | "warning" | "info";
  message: string;
  path: string;
  code?: string;
}

export type Config = Record<string, unknown>;

/** What every node form receives: its config, a patcher and the node's input schema. */
export interface FormProps {
  config: Config;
  set: (patch: Config) => void;
  /** The node's input schema ([] while unknown). */
  input: Field[];
  /** Whether `input` is the validator's propagated schema; expression editors check field names only then. */
  inputKnown?: boolean;
}

export const inputClass = "mt-1 block w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-600";
export const monoClass = `${inputClass} font-mono`;
export const smallButton = "rounded px-1.5 py-0.5 text-xs font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-600";
export const addButton = `${smallButton} text-brand-700 hover:underline`;
export const removeButton = `${smallButton} text-slate-500 hover:text-red-700`;

/**
 * The node's diagnostics, and the set of paths the forms show under a field:
 * whatever no field claims is listed at the top of the inspector, so nothing
 * the validator says is lost.
 */
export interface DiagnosticsBag {
  all: NodeDiagnostic[];
  claimed: Set<string>;
}
/** True when the viewer may look but not change (team viewers): code editors become read-only too. */
export const ReadOnlyContext = createContext(false);

export const DiagnosticsContext = createContext<DiagnosticsBag>({ all: [], claimed: new Set() });

const tone = { error: "text-red-700", warning: "text-amber-800", info: "text-sky-800" } as const;

/** Diagnostics whose path is `path` (or, with `prefix`, anything below it), shown under the control they belong to. */
export function FieldDiagnostics({ path, id, prefix }: { path: string; id?: string; prefix?: boolean }) {
  const bag = useContext(DiagnosticsContext);
  const mine = bag.all.filter((d) => d.path === path || (prefix && (d.path.startsWith(`${path}.`) || d.path.startsWith(`${path}[`))));
  for (const d of mine) bag.claimed.add(d.path);
  if (!mine.length) return null;
  return (
    <ul id={id} className="mt-1 space-y-0.5" data-testid={`diagnostics-${path}`}>
      {mine.map((d, i) => (
        <li key={i} role={d.severity === "error" ? "alert" : undefined} className={`text-xs font-normal ${tone[d.severity]}`}>
          {d.message}
        </li>
      ))}
    </ul>
  );
}

/** A labelled control with its hint and the diagnostics for its config path. */
export function FormField({ label, path, hint, children }: { label: string; path?: string; hint?: ReactNode; children: (ids: { id: string; describedBy: string }) => ReactNode }) {
  const id = useId();
  const describedBy = `${id}-desc`;
  return (
    <div className="block">
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">{label}</label>
      {children({ id, describedBy })}
      <div id={describedBy}>
        {hint ? <p className="mt-1 text-xs text-slate-500">{hint}</p> : null}
        {path ? <FieldDiagnostics path={path} /> : null}
      </div>
    </div>
  );
}

export function formatType(type: FieldType): string {
  if (typeof type === "string") return type;
  if ("list" in type) return `list<${formatType(type.list)}>`;
  return "struct";
}

/** Every field path of a schema, nested struct members included (user, user.geo, user.geo.country). */
export function fieldPaths(fields: Field[], prefix = ""): { path: string; type: FieldType }[] {
  const out: { path: string; type: FieldType }[] = [];
  for (const f of fields) {
    const path = prefix ? `${prefix}.${f.name}` : f.name;
    out.push({ path, type: f.type });
    if (typeof f.type === "object" && "struct" in f.type) out.push(...fieldPaths(f.type.struct, path));
  }
  return out;
}

/**
 * Picks an input field (a dotted path). Offers the propagated input schema;
 * a value the schema does not have (yet) stays selectable so an edit upstream
 * never silently rewrites this node's config.
 */
export function FieldPicker({
  id,
  label,
  value,
  onChange,
  input,
  describedBy,
  optional,
  nested = true,
  filter,
}: {
  id?: string;
  label: string;
  value: string | undefined;
  onChange: (value: string | undefined) => void;
  input: Field[];
  describedBy?: string;
  optional?: string;
  nested?: boolean;
  filter?: (type: FieldType) => boolean;
}) {
  const options = (nested ? fieldPaths(input) : input.map((f) => ({ path: f.name, type: f.type }))).filter((o) => !filter || filter(o.type));
  const known = value === undefined || value === "" || options.some((o) => o.path === value);
  return (
    <select id={id} aria-label={label} aria-describedby={describedBy} value={value ?? ""} onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)} className={`${monoClass}`}>
      <option value="">{optional ?? "Choose a field…"}</option>
      {options.map((o) => (
        <option key={o.path} value={o.path}>
          {o.path} · {formatType(o.type)}
        </option>
      ))}
      {!known ? <option value={value}>{value} · not in the input</option> : null}
    </select>
  );
}

/** Replaces item `i` of a list, for row editors. */
export function replaceAt<T>(list: T[], i: number, item: T): T[] {
  return list.map((x, j) => (j === i ? item : x));
}
export function removeAt<T>(list: T[], i: number): T[] {
  return list.filter((_, j) => j !== i);
}
