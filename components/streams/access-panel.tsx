"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { apiFetch } from "@/components/ui/api";

interface Request {
  id: string;
  team: { slug: string; name: string };
  status: string;
  reason: string;
  note: string;
  createdAt: string;
}

/** For teams without read access: ask the owner team, with a reason. */
export function RequestAccess({ team, stream, owner, current }: { team: string; stream: string; owner: string; current?: { status: string; note: string } }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  if (current?.status === "requested") return <p className="text-sm text-amber-800">Access requested — waiting for team {owner}.</p>;
  return (
    <form
      action={async (form) => {
        setError(null);
        try {
          await apiFetch(`/api/v1/teams/${team}/streams/${encodeURIComponent(stream)}/access-requests`, { body: { reason: String(form.get("reason")) } });
          router.refresh();
        } catch (e) {
          setError(e instanceof Error ? e.message : String(e));
        }
      }}
      className="space-y-2"
    >
      {current?.status === "rejected" ? <p className="text-sm text-red-700">Team {owner} declined the last request{current.note ? `: “${current.note}”` : ""}.</p> : null}
      {current?.status === "revoked" ? <p className="text-sm text-red-700">Access was revoked{current.note ? `: “${current.note}”` : ""}.</p> : null}
      <label className="block text-sm font-medium text-slate-700">
        Why does your team need this stream?
        <textarea name="reason" required minLength={5} rows={2} className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm" />
      </label>
      {error ? <p role="alert" className="text-sm text-red-700">{error}</p> : null}
      <button className="rounded-md bg-brand-600 px-4 py-2 text-sm font-semibold text-white hover:bg-brand-700">Request access from {owner}</button>
    </form>
  );
}

/** For the owner team: requests and grants on this stream, with approve / reject / revoke. */
export function AccessRequests({ team, requests, canDecide }: { team: string; requests: Request[]; canDecide: boolean }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const decide = async (id: string, decision: "approve" | "reject" | "revoke") => {
    const note = decision === "approve" ? "" : (prompt(decision === "reject" ? "Why is the request declined? (shown to the team)" : "Why is access revoked? (shown to the team)") ?? "");
    try {
      await apiFetch(`/api/v1/teams/${team}/access-requests/${id}/${decision}`, { body: { note } });
      router.refresh();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  if (!requests.length) return <p className="text-sm text-slate-500">No team has asked for access yet.</p>;
  return (
    <div className="space-y-2">
      {error ? <p role="alert" className="text-sm text-red-700">{error}</p> : null}
      <ul className="divide-y divide-slate-100">
        {requests.map((r) => (
          <li key={r.id} className="flex items-start justify-between gap-4 py-2 text-sm">
            <div>
              <div className="font-medium">{r.team.name} <span className="text-xs font-normal text-slate-500">{r.status}</span></div>
              <div className="text-slate-600">“{r.reason}”</div>
              {r.note ? <div className="text-xs text-slate-500">Note: {r.note}</div> : null}
            </div>
            {canDecide ? (
              <div className="flex shrink-0 gap-2">
                {r.status === "requested" || r.status === "rejected" ? <button onClick={() => decide(r.id, "approve")} className="rounded-md bg-emerald-600 px-3 py-1 text-xs font-semibold text-white">Approve</button> : null}
                {r.status === "requested" ? <button onClick={() => decide(r.id, "reject")} className="rounded-md border border-slate-300 px-3 py-1 text-xs">Reject</button> : null}
                {r.status === "approved" ? <button onClick={() => decide(r.id, "revoke")} className="rounded-md border border-red-300 px-3 py-1 text-xs text-red-700">Revoke</button> : null}
              </div>
            ) : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
