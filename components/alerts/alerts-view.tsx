"use client";

import Link from "next/link";
import { useCallback, useEffect, useId, useMemo, useState } from "react";
import { apiFetch, ApiError } from "@/components/ui/api";
import { Badge } from "@/components/ui/badge";
import { buttonStyles } from "@/components/ui/dialog";
import { useAction } from "@/components/ui/use-action";

type Condition = "consumer_lag" | "error_rate" | "no_input" | "task_failures" | "reconciliation_mismatch" | "throughput_below";

/** What the form offers per condition (the server's zod schema in lib/alerts/rules.ts has the last word). */
export const CONDITION_FORM: Record<Condition, { label: string; targets: ("pipeline" | "stream")[]; threshold?: { label: string; default: number }; forLabel: string }> = {
  consumer_lag: { label: "Consumer lag above N", targets: ["pipeline"], threshold: { label: "Records behind", default: 1_000 }, forLabel: "For at least" },
  error_rate: { label: "Dead-letter rate above x%", targets: ["pipeline"], threshold: { label: "Percent of records read", default: 1 }, forLabel: "For at least" },
  no_input: { label: "No input", targets: ["pipeline", "stream"], forLabel: "For" },
  task_failures: { label: "Task failed or restarting more than k times", targets: ["pipeline"], threshold: { label: "Restarts allowed", default: 3 }, forLabel: "Within" },
  reconciliation_mismatch: { label: "Reconciliation mismatch", targets: ["pipeline"], forLabel: "In the last" },
  throughput_below: { label: "Throughput below a floor", targets: ["pipeline", "stream"], threshold: { label: "Records per second", default: 1 }, forLabel: "For at least" },
};

export interface RuleRow {
  id: string;
  name: string;
  target: { kind: "pipeline" | "stream"; name: string };
  condition: Condition;
  description: string;
  state: "ok" | "pending" | "firing";
  stateSince: string | null;
  lastValue: number | null;
  lastEvaluatedAt: string | null;
  channels: string[];
}
export interface ChannelRow {
  id: string;
  name: string;
  kind: "webhook" | "email";
  target: string;
}
export interface InboxItem {
  id: string;
  kind: "firing" | "resolved" | "pending";
  rule: { name: string };
  target: { kind: string; name: string | null };
  message: string;
  at: string;
  unread: boolean;
}
export interface DeliveryRow {
  id: string;
  channel: string;
  channelKind: string;
  rule: string;
  event: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  responseStatus: number | null;
  lastError: string | null;
  createdAt: string;
  log: { at: string; ok: boolean; status?: number; error?: string; ms: number }[];
}

const stateTone = { ok: "green", pending: "amber", firing: "red" } as const;
const TABS = ["Inbox", "Rules", "Channels", "Delivery log"] as const;
type Tab = (typeof TABS)[number];
const when = (iso: string) => new Date(iso).toLocaleString();

export function AlertsView(props: {
  team: string;
  canEdit: boolean;
  pipelines: string[];
  streams: string[];
  initial: { rules: RuleRow[]; channels: ChannelRow[]; inbox: { unread: number; firing: number; items: InboxItem[] }; deliveries: DeliveryRow[] };
  initialTab?: Tab;
  preset?: { pipeline?: string };
}) {
  const { team, canEdit } = props;
  const [tab, setTab] = useState<Tab>(props.initialTab ?? "Inbox");
  const [rules, setRules] = useState(props.initial.rules);
  const [channels, setChannels] = useState(props.initial.channels);
  const [inbox, setInbox] = useState(props.initial.inbox);
  const [deliveries, setDeliveries] = useState(props.initial.deliveries);
  const base = `/api/v1/teams/${team}/alerts`;

  const refresh = useCallback(async () => {
    const [r, c, i, d] = await Promise.all([
      apiFetch<{ rules: RuleRow[] }>(`${base}/rules`),
      apiFetch<{ channels: ChannelRow[] }>(`${base}/channels`),
      apiFetch<typeof inbox>(`${base}/inbox`),
      apiFetch<{ deliveries: DeliveryRow[] }>(`${base}/deliveries`),
    ]);
    setRules(r.rules);
    setChannels(c.channels);
    setInbox(i);
    setDeliveries(d.deliveries);
  }, [base]);

  // Rule states change every evaluation round (10 s): keep the page current.
  useEffect(() => {
    const t = setInterval(() => !document.hidden && void refresh().catch(() => {}), 5_000);
    return () => clearInterval(t);
  }, [refresh]);

  // Reading the inbox marks it read (the badge clears); what was unread stays highlighted on this visit.
  useEffect(() => {
    if (tab === "Inbox" && inbox.unread > 0) void apiFetch(`${base}/inbox/seen`, { body: {} }).then(() => window.dispatchEvent(new Event("sluice:inbox-seen"))).catch(() => {});
  }, [tab, inbox.unread, base]);

  return (
    <div className="space-y-4">
      <div role="tablist" aria-label="Alerts" className="inline-flex gap-1 rounded-lg bg-slate-100 p-1">
        {TABS.map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} onClick={() => setTab(t)} className={`rounded-md px-3 py-1.5 text-sm font-medium ${tab === t ? "bg-white text-slate-900 shadow-sm" : "text-slate-600 hover:text-slate-900"}`}>
            {t}
            {t === "Inbox" && inbox.firing ? <span className="ml-1.5 rounded-full bg-red-600 px-1.5 text-xs text-white">{inbox.firing}</span> : null}
          </button>
        ))}
      </div>

      {tab === "Inbox" ? (
        <section aria-label="Inbox" className="overflow-hidden rounded-xl border border-slate-200 bg-white">
          {inbox.items.length ? (
            <ul className="divide-y divide-slate-100">
              {inbox.items.map((e) => (
                <li key={e.id} data-testid="inbox-item" className={`flex items-start gap-3 px-4 py-3 text-sm ${e.unread ? "bg-amber-50/60" : ""}`}>
                  <Badge tone={e.kind === "firing" ? "red" : "green"}>{e.kind}</Badge>
                  <div className="min-w-0 flex-1">
                    <p className="text-slate-900">{e.message}</p>
                    <p className="text-xs text-slate-500">{when(e.at)} · rule {e.rule.name}{e.target.kind === "pipeline" && e.target.name ? <> · <Link className="text-brand-700 hover:underline" href={`/t/${team}/pipelines/${e.target.name}/monitor`}>monitor</Link></> : null}</p>
                  </div>
                </li>
              ))}
            </ul>
          ) : (
            <p className="px-4 py-10 text-center text-sm text-slate-500">Nothing has fired yet. Firings and resolutions of the team’s rules arrive here, and on the channels each rule names.</p>
          )}
        </section>
      ) : null}

      {tab === "Rules" ? (
        <>
          {canEdit ? <RuleForm team={team} pipelines={props.pipelines} streams={props.streams} channels={channels} preset={props.preset} onCreated={refresh} /> : <p className="text-sm text-slate-500">Team editors create and delete rules; you can see them.</p>}
          <section aria-label="Rules" className="overflow-hidden rounded-xl border border-slate-200 bg-white">
            <table className="min-w-full text-sm">
              <thead className="bg-slate-50 text-left text-xs font-semibold uppercase text-slate-500">
                <tr><th className="px-3 py-2">Rule</th><th className="px-3 py-2">Watches</th><th className="px-3 py-2">Condition</th><th className="px-3 py-2">State</th><th className="px-3 py-2 text-right">Now</th><th className="px-3 py-2">Channels</th>{canEdit ? <th /> : null}</tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {rules.map((r) => (
                  <tr key={r.id} data-testid={`rule-row-${r.name}`}>
                    <td className="px-3 py-2 font-medium">{r.name}</td>
                    <td className="px-3 py-2 text-slate-600">{r.target.kind} {r.target.kind === "pipeline" ? <Link className="text-brand-700 hover:underline" href={`/t/${team}/pipelines/${r.target.name}/monitor`}>{r.target.name}</Link> : r.target.name}</td>
                    <td className="px-3 py-2 text-slate-600">{r.description}</td>
                    <td className="px-3 py-2"><Badge tone={stateTone[r.state]}>{r.state}</Badge>{r.stateSince && r.state !== "ok" ? <span className="ml-1 text-xs text-slate-500">since {new Date(r.stateSince).toLocaleTimeString()}</span> : null}</td>
                    <td className="px-3 py-2 text-right font-mono text-xs">{r.lastValue ?? "—"}</td>
                    <td className="px-3 py-2 text-xs text-slate-600">inbox{r.channels.length ? `, ${r.channels.join(", ")}` : ""}</td>
                    {canEdit ? <td className="px-3 py-2 text-right"><DeleteButton label={`Delete rule ${r.name}`} onDelete={async () => { await apiFetch(`${base}/rules/${encodeURIComponent(r.name)}`, { method: "DELETE" }); await refresh(); }} /></td> : null}
                  </tr>
                ))}
                {!rules.length ? <tr><td colSpan={7} className="px-3 py-6 text-center text-slate-500">No rules yet.</td></tr> : null}
              </tbody>
            </table>
          </section>
        </>
      ) : null}

      {tab === "Channels" ? (
        <>
          {canEdit ? <ChannelForm team={team} onCreated={refresh} /> : null}
          <section aria-label="Channels" className="overflow-hidden rounded-xl border border-slate-200 bg-white">
            <table className="min-w-full text-sm">
              <thead className="bg-slate-50 text-left text-xs font-semibold uppercase text-slate-500"><tr><th className="px-3 py-2">Channel</th><th className="px-3 py-2">Kind</th><th className="px-3 py-2">Sends to</th>{canEdit ? <th /> : null}</tr></thead>
              <tbody className="divide-y divide-slate-100">
                <tr><td className="px-3 py-2 font-medium">inbox</td><td className="px-3 py-2">in-app</td><td className="px-3 py-2 text-slate-600">every member of the team (always on)</td>{canEdit ? <td /> : null}</tr>
                {channels.map((c) => (
                  <tr key={c.id}>
                    <td className="px-3 py-2 font-medium">{c.name}</td>
                    <td className="px-3 py-2">{c.kind}</td>
                    <td className="px-3 py-2 font-mono text-xs text-slate-600">{c.target}</td>
                    {canEdit ? <td className="px-3 py-2 text-right"><DeleteButton label={`Delete channel ${c.name}`} onDelete={async () => { await apiFetch(`${base}/channels/${encodeURIComponent(c.name)}`, { method: "DELETE" }); await refresh(); }} /></td> : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      ) : null}

      {tab === "Delivery log" ? (
        <section aria-label="Delivery log" className="overflow-hidden rounded-xl border border-slate-200 bg-white">
          <table className="min-w-full text-sm">
            <thead className="bg-slate-50 text-left text-xs font-semibold uppercase text-slate-500"><tr><th className="px-3 py-2">When</th><th className="px-3 py-2">Rule</th><th className="px-3 py-2">Event</th><th className="px-3 py-2">Channel</th><th className="px-3 py-2">Status</th><th className="px-3 py-2">Attempts</th></tr></thead>
            <tbody className="divide-y divide-slate-100">
              {deliveries.map((d) => (
                <tr key={d.id} data-testid="delivery-row">
                  <td className="px-3 py-2 text-xs text-slate-600">{when(d.createdAt)}</td>
                  <td className="px-3 py-2">{d.rule}</td>
                  <td className="px-3 py-2">{d.event}</td>
                  <td className="px-3 py-2">{d.channel} <span className="text-xs text-slate-500">({d.channelKind})</span></td>
                  <td className="px-3 py-2"><Badge tone={d.status === "delivered" ? "green" : d.status === "failed" ? "red" : "amber"}>{d.status}</Badge>{d.responseStatus ? <span className="ml-1 font-mono text-xs text-slate-500">HTTP {d.responseStatus}</span> : null}</td>
                  <td className="px-3 py-2 text-xs text-slate-600">
                    {d.log.map((a, i) => <div key={i}>{new Date(a.at).toLocaleTimeString()} · {a.ok ? "ok" : a.error ?? "failed"} · {a.ms} ms</div>)}
                  </td>
                </tr>
              ))}
              {!deliveries.length ? <tr><td colSpan={6} className="px-3 py-6 text-center text-slate-500">No notification has been sent to a webhook or e-mail channel yet.</td></tr> : null}
            </tbody>
          </table>
        </section>
      ) : null}
    </div>
  );
}

function DeleteButton({ label, onDelete }: { label: string; onDelete: () => Promise<void> }) {
  const [confirm, setConfirm] = useState(false);
  const { busy, error, run } = useAction();
  return confirm ? (
    <span className="inline-flex items-center gap-2 text-xs">
      <button className="font-medium text-red-700" disabled={busy} onClick={() => run(onDelete)}>Really delete</button>
      <button className="text-slate-500" onClick={() => setConfirm(false)}>Cancel</button>
      {error ? <span role="alert" className="text-red-700">{error}</span> : null}
    </span>
  ) : (
    <button aria-label={label} className="text-xs font-medium text-red-700 hover:underline" onClick={() => setConfirm(true)}>Delete</button>
  );
}

/** A labelled control: the label names the control alone (not the options of a select inside it). */
function Field({ label, help, className = "", children }: { label: string; help?: string; className?: string; children: (id: string, describedBy?: string) => React.ReactNode }) {
  const id = useId();
  return (
    <div className={`flex flex-col gap-1 ${className}`}>
      <label htmlFor={id}>{label}</label>
      {children(id, help ? `${id}-help` : undefined)}
      {help ? <span id={`${id}-help`} className="text-xs text-slate-500">{help}</span> : null}
    </div>
  );
}

const describeError = (e: unknown) => (e instanceof ApiError && e.details?.length ? `${e.message} ${e.details.map((d) => `${d.path.join(".")}: ${d.message}`).join("; ")}` : e instanceof Error ? e.message : String(e));

function RuleForm({ team, pipelines, streams, channels, preset, onCreated }: { team: string; pipelines: string[]; streams: string[]; channels: ChannelRow[]; preset?: { pipeline?: string }; onCreated: () => Promise<void> }) {
  const [name, setName] = useState("");
  const [targetKind, setTargetKind] = useState<"pipeline" | "stream">("pipeline");
  const [target, setTarget] = useState(preset?.pipeline ?? pipelines[0] ?? "");
  const [condition, setCondition] = useState<Condition>("consumer_lag");
  const [threshold, setThreshold] = useState(String(CONDITION_FORM.consumer_lag.threshold!.default));
  const [forText, setForText] = useState("1m");
  const [picked, setPicked] = useState<string[]>([]);
  const [done, setDone] = useState<string | null>(null);
  const { busy, error, run } = useAction({ describe: describeError });
  const conditions = useMemo(() => (Object.keys(CONDITION_FORM) as Condition[]).filter((c) => CONDITION_FORM[c].targets.includes(targetKind)), [targetKind]);
  const info = CONDITION_FORM[condition];
  const submit = () =>
    run(async () => {
      await apiFetch(`/api/v1/teams/${team}/alerts/rules`, {
        body: { name: name.trim(), [targetKind]: target, condition, ...(info.threshold ? { threshold: Number(threshold) } : {}), for: forText.trim(), channels: picked },
      });
      setDone(`Rule ${name.trim()} created.`);
      setName("");
      await onCreated();
    });
  return (
    <form aria-label="New alert rule" className="grid grid-cols-2 gap-3 rounded-xl border border-slate-200 bg-white p-4 text-sm lg:grid-cols-4" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
      <h2 className="col-span-full text-base font-semibold">New rule</h2>
      <Field label="Rule name">{(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} placeholder="orders-lag" className="rounded-md border border-slate-300 px-2 py-1.5 font-mono" />}</Field>
      <Field label="Watch">
        {(id) => (
          <select id={id} value={targetKind} onChange={(e) => { const k = e.target.value as "pipeline" | "stream"; setTargetKind(k); setTarget((k === "pipeline" ? pipelines : streams)[0] ?? ""); if (!CONDITION_FORM[condition].targets.includes(k)) setCondition("no_input"); }} className="rounded-md border border-slate-300 px-2 py-1.5">
            <option value="pipeline">a pipeline</option>
            <option value="stream">a stream</option>
          </select>
        )}
      </Field>
      <Field label={targetKind === "pipeline" ? "Pipeline" : "Stream"}>
        {(id) => (
          <select id={id} value={target} onChange={(e) => setTarget(e.target.value)} className="rounded-md border border-slate-300 px-2 py-1.5">
            {(targetKind === "pipeline" ? pipelines : streams).map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        )}
      </Field>
      <Field label="Condition">
        {(id) => (
          <select id={id} value={condition} onChange={(e) => { const c = e.target.value as Condition; setCondition(c); if (CONDITION_FORM[c].threshold) setThreshold(String(CONDITION_FORM[c].threshold!.default)); }} className="rounded-md border border-slate-300 px-2 py-1.5">
            {conditions.map((c) => <option key={c} value={c}>{CONDITION_FORM[c].label}</option>)}
          </select>
        )}
      </Field>
      {info.threshold ? <Field label={info.threshold.label}>{(id) => <input id={id} type="number" min={0} step="any" value={threshold} onChange={(e) => setThreshold(e.target.value)} className="rounded-md border border-slate-300 px-2 py-1.5" />}</Field> : null}
      <Field label={info.forLabel} help="e.g. 30s, 5m, 1h">{(id, help) => <input id={id} value={forText} onChange={(e) => setForText(e.target.value)} placeholder="5m" aria-describedby={help} className="rounded-md border border-slate-300 px-2 py-1.5" />}</Field>
      <fieldset className="col-span-2 flex flex-col gap-1">
        <legend>Notify</legend>
        <div className="flex flex-wrap gap-3">
          <label className="inline-flex items-center gap-1 text-slate-500"><input type="checkbox" checked disabled /> inbox</label>
          {channels.map((c) => (
            <label key={c.id} className="inline-flex items-center gap-1"><input type="checkbox" checked={picked.includes(c.name)} onChange={(e) => setPicked((p) => (e.target.checked ? [...p, c.name] : p.filter((x) => x !== c.name)))} /> {c.name}</label>
          ))}
          {!channels.length ? <span className="text-xs text-slate-500">Add a webhook or e-mail channel on the Channels tab.</span> : null}
        </div>
      </fieldset>
      <div className="col-span-full flex items-center gap-3">
        <button type="submit" disabled={busy || !name.trim() || !target} className={buttonStyles.primary}>Create rule</button>
        {error ? <p role="alert" className="text-red-700">{error}</p> : done ? <p role="status" className="text-emerald-700">{done}</p> : null}
      </div>
    </form>
  );
}

function ChannelForm({ team, onCreated }: { team: string; onCreated: () => Promise<void> }) {
  const [kind, setKind] = useState<"webhook" | "email">("webhook");
  const [name, setName] = useState("");
  const [target, setTarget] = useState("");
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const { busy, error, run } = useAction({ describe: describeError });
  const submit = () =>
    run(async () => {
      const c = await apiFetch<{ name: string; secret?: string }>(`/api/v1/teams/${team}/alerts/channels`, {
        body: kind === "webhook" ? { kind, name: name.trim(), url: target.trim() } : { kind, name: name.trim(), to: target.split(/[,\s]+/).filter(Boolean) },
      });
      if (c.secret) setSecret({ name: c.name, secret: c.secret });
      setName("");
      setTarget("");
      await onCreated();
    });
  return (
    <form aria-label="New channel" className="grid grid-cols-2 gap-3 rounded-xl border border-slate-200 bg-white p-4 text-sm lg:grid-cols-4" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
      <h2 className="col-span-full text-base font-semibold">New channel</h2>
      <Field label="Kind">
        {(id) => (
          <select id={id} value={kind} onChange={(e) => setKind(e.target.value as "webhook" | "email")} className="rounded-md border border-slate-300 px-2 py-1.5">
            <option value="webhook">Webhook (signed JSON POST)</option>
            <option value="email">E-mail</option>
          </select>
        )}
      </Field>
      <Field label="Channel name">{(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} placeholder="oncall" className="rounded-md border border-slate-300 px-2 py-1.5 font-mono" />}</Field>
      <Field label={kind === "webhook" ? "Webhook URL" : "Addresses (comma-separated)"} className="col-span-2">{(id) => <input id={id} value={target} onChange={(e) => setTarget(e.target.value)} placeholder={kind === "webhook" ? "https://hooks.example.com/sluice" : "oncall@example.com"} className="rounded-md border border-slate-300 px-2 py-1.5 font-mono" />}</Field>
      <div className="col-span-full flex items-center gap-3">
        <button type="submit" disabled={busy || !name.trim() || !target.trim()} className={buttonStyles.primary}>Create channel</button>
        {error ? <p role="alert" className="text-red-700">{error}</p> : null}
      </div>
      {secret ? (
        <div role="status" className="col-span-full rounded-md bg-amber-50 p-3 text-amber-900">
          <p className="font-medium">Signing secret of {secret.name} — shown once; the receiver checks <code>X-Sluice-Signature</code> with it:</p>
          <code data-testid="webhook-secret" className="mt-1 block break-all font-mono text-xs">{secret.secret}</code>
        </div>
      ) : null}
    </form>
  );
}
