"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { apiFetch } from "@/components/ui/api";

interface TokenRow {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdBy: { name: string; email: string } | null;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedReason: string | null;
  state: "active" | "expired" | "revoked" | "suspended";
}

const minute = (iso: string) => iso.slice(0, 16).replace("T", " ");

/** Why a token does not work, in a word or a sentence; null while it works. */
function inactive(t: TokenRow): string | null {
  if (t.state === "revoked") return t.revokedReason ? `revoked: ${t.revokedReason}` : "revoked";
  if (t.state === "expired") return "expired";
  if (t.state === "suspended") return t.createdBy ? `suspended: ${t.createdBy.name} no longer has the ${t.role} role here` : "suspended: its creator's account is gone";
  return null;
}

export function Tokens({ team, tokens }: { team: string; tokens: TokenRow[] }) {
  const router = useRouter();
  const [secret, setSecret] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function create(form: FormData) {
    setError(null);
    try {
      const t = await apiFetch<{ token: string }>(`/api/v1/teams/${team}/tokens`, { body: { name: String(form.get("name")), role: String(form.get("role")) } });
      setSecret(t.token);
      setCopied(false);
      router.refresh();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }
  async function revoke(id: string) {
    if (!confirm("Revoke this token? Automation using it stops working at once.")) return;
    await apiFetch(`/api/v1/teams/${team}/tokens/${id}`, { method: "DELETE" }).catch((e: Error) => setError(e.message));
    router.refresh();
  }
  return (
    <div className="space-y-6">
      {secret ? (
        <div role="status" className="rounded-xl border border-amber-300 bg-amber-50 p-4">
          <p className="text-sm font-semibold text-amber-900">Copy your new token now — it will not be shown again.</p>
          <div className="mt-2 flex items-center gap-2">
            <code data-testid="new-token" className="grow overflow-x-auto rounded bg-white px-3 py-2 font-mono text-sm">{secret}</code>
            <button onClick={() => { void navigator.clipboard?.writeText(secret); setCopied(true); }} className="rounded-md border border-amber-400 bg-white px-3 py-2 text-sm font-medium">{copied ? "Copied" : "Copy"}</button>
          </div>
          <p className="mt-2 text-xs text-amber-900">Use it as <code className="font-mono">Authorization: Bearer …</code> or <code className="font-mono">SLUICE_TOKEN=…</code> for the CLI.</p>
        </div>
      ) : null}
      {error ? <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{error}</p> : null}
      <form action={create} className="flex flex-wrap items-end gap-3 rounded-xl border border-slate-200 bg-white p-4">
        <label className="block grow">
          <span className="text-sm font-medium text-slate-700">Token name</span>
          <input name="name" required maxLength={80} placeholder="ci-deploys" className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm" />
        </label>
        <label className="block">
          <span className="text-sm font-medium text-slate-700">Role</span>
          <select name="role" defaultValue="editor" className="mt-1 block rounded-md border border-slate-300 px-2 py-2 text-sm">
            <option value="viewer">viewer</option>
            <option value="editor">editor</option>
            <option value="owner">owner</option>
          </select>
        </label>
        <button className="rounded-md bg-brand-600 px-4 py-2 text-sm font-semibold text-white hover:bg-brand-700">Create token</button>
      </form>
      {tokens.length ? (
        <ul className="divide-y divide-slate-100 rounded-xl border border-slate-200 bg-white">
          {tokens.map((t) => {
            const why = inactive(t);
            return (
              <li key={t.id} data-testid={`token-${t.name}`} className="flex items-center justify-between gap-4 px-4 py-3 text-sm">
                <div>
                  <div className="font-medium">{t.name} <span className="ml-1 font-mono text-xs text-slate-500">{t.prefix}…</span></div>
                  <div className="text-xs text-slate-500">
                    {t.role} · created {t.createdAt.slice(0, 10)} by {t.createdBy ? `${t.createdBy.name} (${t.createdBy.email})` : "a deleted account"} · {t.lastUsedAt ? `last used ${minute(t.lastUsedAt)}` : "never used"}
                    {t.expiresAt && t.state !== "expired" ? ` · expires ${t.expiresAt.slice(0, 10)}` : ""}
                  </div>
                </div>
                {why ? <span className="text-right text-xs text-slate-500">{why}</span> : <button onClick={() => revoke(t.id)} className="font-medium text-red-700 hover:underline">Revoke</button>}
              </li>
            );
          })}
        </ul>
      ) : (
        <p className="text-sm text-slate-500">No API tokens yet. Tokens let CI jobs and scripts call the API and CLI for this team.</p>
      )}
    </div>
  );
}
