"use client";

import { useRouter } from "next/navigation";
import { apiFetch } from "@/components/ui/api";
import { useAction } from "@/components/ui/use-action";

export function CreateTeamForm() {
  const router = useRouter();
  const { busy: pending, error, run } = useAction({ staysBusyOnSuccess: true });
  const submit = (form: FormData) =>
    run(async () => {
      const slug = String(form.get("slug") ?? "").trim();
      const team = await apiFetch<{ slug: string }>("/api/v1/teams", { body: { name: String(form.get("name")), ...(slug ? { slug } : {}) } });
      router.push(`/t/${team.slug}/pipelines`);
      router.refresh();
    });
  return (
    <form action={submit} className="space-y-4">
      <label className="block">
        <span className="text-sm font-medium text-slate-700">Team name</span>
        <input name="name" required minLength={2} maxLength={80} placeholder="Ads Analytics" className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-2 focus:ring-brand-100" />
      </label>
      <label className="block">
        <span className="text-sm font-medium text-slate-700">URL name <span className="font-normal text-slate-500">(optional)</span></span>
        <input name="slug" pattern="[a-z0-9][a-z0-9-]*[a-z0-9]" placeholder="ads-analytics" className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 font-mono text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-2 focus:ring-brand-100" />
        <span className="mt-1 block text-xs text-slate-500">Lowercase letters, digits and dashes. Derived from the name when empty.</span>
      </label>
      {error ? <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{error}</p> : null}
      <button type="submit" disabled={pending} className="w-full rounded-md bg-brand-600 px-4 py-2 text-sm font-semibold text-white hover:bg-brand-700 disabled:opacity-60">
        {pending ? "Creating…" : "Create team"}
      </button>
    </form>
  );
}
