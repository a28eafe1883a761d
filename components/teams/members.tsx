"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { apiFetch } from "@/components/ui/api";

interface MemberRow {
  userId: string;
  email: string;
  name: string;
  role: "owner" | "editor" | "viewer";
}

export function Members({ team, members, me, canManage }: { team: string; members: MemberRow[]; me: string; canManage: boolean }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [inviteLink, setInviteLink] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const act = async (fn: () => Promise<unknown>, after?: () => void) => {
    setError(null);
    setNotice(null);
    try {
      const r = (await fn()) as { revokedTokens?: string[] } | null;
      // A member's tokens stop with their standing: say which ones, so nobody wonders why a job broke.
      if (r?.revokedTokens?.length) setNotice(`Revoked ${r.revokedTokens.length} API token(s) that member had created: ${r.revokedTokens.join(", ")}.`);
      after?.();
      router.refresh();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <div className="space-y-6">
      {error ? <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{error}</p> : null}
      {notice ? <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">{notice}</p> : null}
      <ul className="divide-y divide-slate-100 rounded-xl border border-slate-200 bg-white">
        {members.map((m) => (
          <li key={m.userId} className="flex items-center justify-between gap-4 px-4 py-3">
            <div>
              <div className="font-medium">{m.name}{m.userId === me ? <span className="ml-2 text-xs text-slate-500">(you)</span> : null}</div>
              <div className="text-sm text-slate-500">{m.email}</div>
            </div>
            <div className="flex items-center gap-3">
              {canManage ? (
                <select aria-label={`Role of ${m.email}`} value={m.role} onChange={(e) => act(() => apiFetch(`/api/v1/teams/${team}/members/${m.userId}`, { method: "PATCH", body: { role: e.target.value } }))} className="rounded-md border border-slate-300 px-2 py-1 text-sm">
                  <option value="owner">owner</option>
                  <option value="editor">editor</option>
                  <option value="viewer">viewer</option>
                </select>
              ) : (
                <span className="text-sm text-slate-600">{m.role}</span>
              )}
              {canManage || m.userId === me ? (
                <button
                  onClick={() => {
                    if (confirm(m.userId === me ? "Leave this team?" : `Remove ${m.email} from the team?`)) void act(() => apiFetch(`/api/v1/teams/${team}/members/${m.userId}`, { method: "DELETE" }), () => m.userId === me && router.push("/"));
                  }}
                  className="text-sm font-medium text-red-700 hover:underline"
                >
                  {m.userId === me ? "Leave" : "Remove"}
                </button>
              ) : null}
            </div>
          </li>
        ))}
      </ul>
      {canManage ? (
        <form
          action={(form) => act(() => apiFetch(`/api/v1/teams/${team}/members`, { body: { email: String(form.get("email")), role: String(form.get("role")) } }))}
          className="flex flex-wrap items-end gap-3 rounded-xl border border-slate-200 bg-white p-4"
        >
          <label className="block grow">
            <span className="text-sm font-medium text-slate-700">Add a member by email</span>
            <input name="email" type="email" required placeholder="colleague@example.com" className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm" />
          </label>
          <label className="block">
            <span className="text-sm font-medium text-slate-700">Role</span>
            <select name="role" defaultValue="editor" className="mt-1 block rounded-md border border-slate-300 px-2 py-2 text-sm">
              <option value="viewer">viewer — read</option>
              <option value="editor">editor — build and deploy</option>
              <option value="owner">owner — manage the team</option>
            </select>
          </label>
          <button className="rounded-md bg-brand-600 px-4 py-2 text-sm font-semibold text-white hover:bg-brand-700">Add</button>
        </form>
      ) : null}
      {canManage ? (
        <form
          action={(form) =>
            act(async () => {
              const r = await apiFetch<{ link: string }>(`/api/v1/teams/${team}/invitations`, { body: { email: String(form.get("email")), role: String(form.get("role")) } });
              setInviteLink(r.link);
            })
          }
          className="space-y-3 rounded-xl border border-slate-200 bg-white p-4"
        >
          <div className="flex flex-wrap items-end gap-3">
            <label className="block grow">
              <span className="text-sm font-medium text-slate-700">Invite someone without an account</span>
              <input name="email" type="email" required placeholder="new.colleague@example.com" className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm" />
            </label>
            <select name="role" aria-label="Invited role" defaultValue="editor" className="rounded-md border border-slate-300 px-2 py-2 text-sm">
              <option value="viewer">viewer</option>
              <option value="editor">editor</option>
              <option value="owner">owner</option>
            </select>
            <button className="rounded-md border border-brand-600 px-4 py-2 text-sm font-semibold text-brand-700 hover:bg-brand-50">Create invitation link</button>
          </div>
          {inviteLink ? (
            <p className="text-sm">
              Send this link to them (valid 7 days, shown once): <code data-testid="invite-link" className="break-all rounded bg-slate-100 px-1 font-mono text-xs">{inviteLink}</code>
            </p>
          ) : null}
        </form>
      ) : null}
    </div>
  );
}
